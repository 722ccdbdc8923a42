// LTI Dynamic Registration §3.6: tell the LMS window the tool is done, so it
// closes the registration frame. Sent on load and again from the button.
(function () {
  function close() {
    if (window.parent && window.parent !== window) {
      window.parent.postMessage({ subject: "org.imsglobal.lti.close" }, "*");
    }
    if (window.opener) {
      window.opener.postMessage({ subject: "org.imsglobal.lti.close" }, "*");
    }
  }
  var button = document.getElementById("close-registration");
  if (button) button.addEventListener("click", close);
  close();
})();
