"""Graph API answers: success bodies, error bodies and the exact error
texts (English and Danish), cURL failures and Facebook's HTML error page.
"""

from __future__ import annotations

from .formats import fbtrace, php_json


def success_body(rng, n=1):
    return php_json({"events_received": n, "messages": [], "fbtrace_id": fbtrace(rng)})


def graph_error(message, etype="OAuthException", code=None, subcode=None, transient=None, title=None, msg=None,
                trace=None, transient_first=False):
    e = {"message": message, "type": etype}
    if transient_first and transient is not None:
        e["is_transient"] = transient
    e["code"] = code
    if subcode is not None:
        e["error_subcode"] = subcode
    if transient is not None and not transient_first:
        e["is_transient"] = transient
    if title is not None:
        e["error_user_title"] = title
    if msg is not None:
        e["error_user_msg"] = msg
    e["fbtrace_id"] = trace
    return {"error": e}


# Texts -------------------------------------------------------------------

MSG_2804003 = ("The timestamp for this event is too far in the past. Events need to be sent from your server within 7 days "
               "of when they occurred. Enter a timestamp that has occurred within the last 7 days.")
DA_2804003_TITLE = "Hændelsens tidsstempel er for gammelt"
DA_2804003_MSG = ("Tidsstemplet for denne hændelse ligger for langt tilbage i tiden. Hændelser skal sendes fra din server inden "
                  "for 7 dage efter, at de fandt sted. Angiv et tidsstempel, der ligger inden for de seneste 7 dage.")
DA_2804050_TITLE = "Du har ikke tilføjet tilstrækkelige data om kundeoplysningsparametre for denne hændelse"
DA_2804050_MSG = ("Denne hændelse har ingen kundeoplysningsparametre, eller den har en kombination af kundeoplysningsparametre, "
                  "der er så bred, at det er usandsynligt, at det vil være effektivt til matchning. Du kan løse dette ved at gå "
                  "til de anbefalede fremgangsmåder for parametre på developers.facebook.com/docs/marketing-api/"
                  "conversions-api/best-practices/#req-rec-params")
MSG_460 = ("Error validating access token: The session has been invalidated because the user changed their password "
           "or Facebook has changed the session for security reasons.")
WC_460_LINE = ("Facebook connection invalid (error 190, subcode 460): The user's password has been changed. "
               "A new access token is required.")
MSG_2804016 = ("The ct parameter isn\u2019t hashed. Hash all user parameters as SHA256, except for client user agent, click ID, "
               "and browser ID. Any other user parameters that are not hashed are automatically rejected by Facebook.")
MSG_2804009 = "Your purchase event doesn\u2019t include a value parameter. Enter a value. For example: 1.99"
CURL28 = "cURL error 28: Operation timed out after 5001 milliseconds with 0 bytes received"
CURL6 = "cURL error 6: Could not resolve host: graph.facebook.com"
PERSIST_ERR = "Error persisting Meta logs: Cannot create the API instance because the access token is missing. : []"

FB_ERROR_HTML = """<!DOCTYPE html>
<html lang="en" id="facebook">
<head>
<title>Facebook | Error</title>
<meta charset="utf-8">
<meta http-equiv="cache-control" content="no-cache">
<meta http-equiv="cache-control" content="no-store">
<meta http-equiv="cache-control" content="max-age=0">
<meta http-equiv="expires" content="-1">
<meta http-equiv="pragma" content="no-cache">
<meta name="robots" content="noindex,nofollow">
<style>
html, body { color: #141823; background-color: #e9eaed; font-family: Helvetica, Lucida Grande, Arial, Tahoma, Verdana, sans-serif; margin: 0; padding: 0; text-align: center; }
#header { height: 30px; padding-bottom: 10px; padding-top: 10px; text-align: center; }
#icon { width: 30px; }
h1 { font-size: 18px; }
p { font-size: 13px; }
#footer { border-top: 1px solid #ddd; color: #9197a3; font-size: 12px; padding: 5px 8px 6px 0; }
</style>
</head>
<body>
<div id="header">
<a href="//www.facebook.com/">
<img id="icon" src="//static.facebook.com/images/logos/facebook_2x.png" />
</a>
</div>
<div id="core">
<h1 id="sorry">Sorry, something went wrong.</h1>
<p>We&#039;re working on getting this fixed as soon as we can.</p>
<p id="back-link">
<a id="back" href="//www.facebook.com/">Go Back</a>
</p>
<div id="footer">
Facebook
<span id="copyright">
&copy; 2026
</span>
<span id="help-link">
&#183;
<a id="help" href="//www.facebook.com/help/">Help Center</a>
</span>
</div>
</div>
<script>
document.getElementById("back").onclick = function() {
  if (history.length > 1) {
    history.back();
    return false;
  }
};
</script>
</body>
</html>
<!-- ServerType: PROXYGEN -->"""
