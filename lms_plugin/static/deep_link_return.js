/* Deep Linking 2.0: post the signed LtiDeepLinkingResponse back to the platform.
 *
 * The page holds a form (action = deep_link_return_url, field JWT) with a
 * visible submit button for browsers without JavaScript; this submits it at once.
 */
(function () {
  "use strict";
  var form = document.getElementById("deep-link-return");
  if (form) form.submit();
})();
