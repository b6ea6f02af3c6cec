// response_mode=form_post: send the authorization response to the app at once. Without
// JavaScript the page shows the form's own button instead.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("form_post");
  if (form) { form.submit(); }
});
