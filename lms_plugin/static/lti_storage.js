/* LTI platform storage: keep launch state in the platform when cookies are blocked.
 *
 * Spec: https://www.imsglobal.org/spec/lti-pm-s/v0p1 (lti.put_data / lti.get_data
 * over postMessage to the frame named by lti_storage_target). The page says what
 * to do in <script type="application/json" id="lti-storage">:
 *   mode "put": store items, then go to `next` (the platform's OIDC endpoint);
 *   mode "get": read keys into the form fields they name, then submit the form.
 * Unanswered or refused messages fall back to cookies: the server decides.
 */
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("lti-storage").textContent);
  var TIMEOUT_MS = 2000;

  function targetFrame() {
    var parent = window.parent;
    if (!parent || parent === window) return null;
    if (config.target === "_parent") return parent;
    try {
      return parent.frames[config.target] || null;
    } catch (error) {
      return null;
    }
  }

  function messageId() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    return String(Date.now()) + String(Math.random()).slice(2);
  }

  function send(frame, message) {
    return new Promise(function (resolve) {
      message.message_id = messageId();
      var timer = setTimeout(function () { finish(null); }, TIMEOUT_MS);
      function onMessage(event) {
        var data = event.data;
        if (event.origin !== config.origin || !data) return;
        if (data.message_id !== message.message_id) return;
        if (data.subject !== message.subject + ".response") return;
        finish(data.error ? null : data);
      }
      function finish(answer) {
        clearTimeout(timer);
        window.removeEventListener("message", onMessage);
        resolve(answer);
      }
      window.addEventListener("message", onMessage);
      frame.postMessage(message, config.origin);
    });
  }

  function put(frame) {
    var sends = Object.keys(config.items).map(function (key) {
      return send(frame, { subject: "lti.put_data", key: key, value: config.items[key] });
    });
    return Promise.all(sends);
  }

  function get(frame, form) {
    var reads = Object.keys(config.keys).map(function (field) {
      return send(frame, { subject: "lti.get_data", key: config.keys[field] })
        .then(function (answer) {
          form.elements[field].value = answer && answer.value ? answer.value : "";
        });
    });
    return Promise.all(reads);
  }

  var frame = targetFrame();
  if (config.mode === "put") {
    var go = function () { window.location.replace(config.next); };
    if (frame) put(frame).then(go, go); else go();
  } else if (config.mode === "get") {
    var form = document.getElementById("lti-relaunch");
    var submit = function () { form.submit(); };
    if (frame) get(frame, form).then(submit, submit); else submit();
  }
})();
