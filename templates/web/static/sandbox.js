// The sandbox page works without this: it moves focus to what a form changed (the
// answer, a message) after the page reloads, and stops a second click from sending a
// form twice while the first is on its way.
const target = decodeURIComponent(window.location.hash.slice(1));
if (target) {
  const shown = document.getElementById(target);
  const heading = shown && (shown.matches("[tabindex]") ? shown : shown.querySelector("[tabindex]"));
  if (heading) heading.focus();
}
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form.dataset.sent) {
    event.preventDefault();
    return;
  }
  form.dataset.sent = "yes";
});
window.addEventListener("pageshow", () => {
  for (const form of document.querySelectorAll("form[data-sent]")) delete form.dataset.sent;
});
