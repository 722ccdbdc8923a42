// Dynamic Registration pages (lms_plugin/templates/lti_registration/).
(function () {
  // One registration per click: a second POST would spend the LMS's one-time token.
  var form = document.getElementById("register-form");
  if (form) {
    form.addEventListener("submit", function () {
      var button = form.querySelector("button[type=submit]");
      button.disabled = true;
      button.textContent = "Registering…";
    });
  }

  // LTI Dynamic Registration: tell the LMS window we are done so it closes this
  // frame (Canvas, Moodle). Sent on load and again from the button.
  function close() {
    var message = { subject: "org.imsglobal.lti.close" };
    if (window.parent && window.parent !== window) {
      window.parent.postMessage(message, "*");
    }
    if (window.opener) {
      window.opener.postMessage(message, "*");
    }
  }
  var button = document.getElementById("close-registration");
  if (button) {
    button.addEventListener("click", close);
    close();
  }
})();
