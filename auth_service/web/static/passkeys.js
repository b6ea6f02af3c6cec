// Passkeys (WebAuthn). Each form marked data-passkey="create" (add a passkey) or "get" (sign in,
// or the second factor) runs its ceremony when submitted: it takes the options the page carries
// (data-page-options: the login page's, while less than half their timeout old) or else POSTs to
// the form's data-options URL for them (JSON, the page's CSRF token in X-CSRFToken), lets the
// browser create or use the passkey, puts the answer (JSON, bytes as base64url) in the form's
// "credential" field and submits the form. The forms sit in [data-passkey-box] elements that stay hidden without this script or
// in a browser without WebAuthn (progressive enhancement: every other form works without it).
(function () {
  "use strict";

  function toBytes(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    var binary = atob(base64 + "===".slice((base64.length + 3) % 4));
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i += 1) { bytes[i] = binary.charCodeAt(i); }
    return bytes;
  }

  function toText(buffer) {
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i += 1) { binary += String.fromCharCode(bytes[i]); }
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function withIds(descriptors) {
    return (descriptors || []).map(function (d) { return Object.assign({}, d, { id: toBytes(d.id) }); });
  }

  function creationOptions(json) {
    return Object.assign({}, json, {
      challenge: toBytes(json.challenge),
      user: Object.assign({}, json.user, { id: toBytes(json.user.id) }),
      excludeCredentials: withIds(json.excludeCredentials)
    });
  }

  function requestOptions(json) {
    return Object.assign({}, json, {
      challenge: toBytes(json.challenge),
      allowCredentials: withIds(json.allowCredentials)
    });
  }

  function answerOf(credential) {
    var response = credential.response;
    var answer = {
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || null,
      clientExtensionResults: credential.getClientExtensionResults(),
      response: { clientDataJSON: toText(response.clientDataJSON) }
    };
    if (response.attestationObject) {
      answer.response.attestationObject = toText(response.attestationObject);
      answer.response.transports = response.getTransports ? response.getTransports() : [];
    } else {
      answer.response.authenticatorData = toText(response.authenticatorData);
      answer.response.signature = toText(response.signature);
      answer.response.userHandle = response.userHandle ? toText(response.userHandle) : null;
    }
    return answer;
  }

  var shownAt = Date.now();

  // The page's challenge answers once: a second try (a cancelled prompt, a page come back to)
  // asks for fresh options.
  function pageOptions(form) {
    if (!form.dataset.pageOptions) { return null; }
    var options = JSON.parse(form.dataset.pageOptions);
    delete form.dataset.pageOptions;
    return Date.now() - shownAt < (options.timeout || 0) / 2 ? options : null;
  }

  async function optionsFor(form) {
    var options = pageOptions(form);
    if (options) { return options; }
    var token = form.querySelector("input[name=_csrf_token]").value;
    var asked = await fetch(form.dataset.options, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": token, "Content-Type": "application/json", "Accept": "application/json" },
      body: "{}"
    });
    if (!asked.ok) { throw new Error("passkey options: " + asked.status); }
    return asked.json();
  }

  async function ceremony(form) {
    var options = await optionsFor(form);
    var credential = form.dataset.passkey === "create"
      ? await navigator.credentials.create({ publicKey: creationOptions(options) })
      : await navigator.credentials.get({ publicKey: requestOptions(options) });
    form.querySelector("input[name=credential]").value = JSON.stringify(answerOf(credential));
    form.submit();
  }

  function enhance(form) {
    var box = form.closest("[data-passkey-box]") || form;
    var error = form.querySelector("[data-passkey-error]");
    var button = form.querySelector("button[type=submit]");
    box.hidden = false;
    document.querySelectorAll("[data-passkey-fallback]").forEach(function (note) { note.hidden = true; });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (error) { error.hidden = true; }
      button.disabled = true;
      ceremony(form).catch(function () {
        button.disabled = false;
        if (error) { error.hidden = false; error.focus(); }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!window.PublicKeyCredential || !navigator.credentials || !window.fetch) { return; }
    document.querySelectorAll("form[data-passkey]").forEach(enhance);
  });
}());
