// Portico's browser code: Bootstrap's components, htmx, and a few behaviours wired by data attributes
// (no inline scripts, so the Content Security Policy can forbid them).
import "bootstrap";
import htmx from "htmx.org";

window.htmx = htmx;
// htmx would inject its indicator rules as an inline <style>, which style-src 'self' blocks; main.css has them.
htmx.config.includeIndicatorStyles = false;

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("form[data-autosubmit] select").forEach((select) => {
    select.addEventListener("change", () => select.form.submit());
  });
  // Invite form: an organization and its device access apply to end users, a role to staff users.
  document.querySelectorAll("form[data-invite-form]").forEach((form) => {
    const kind = form.querySelector("select[name=kind]");
    const show = () => {
      const staff = kind.value === "staff";
      form.querySelector("[data-field=organization]")?.classList.toggle("d-none", staff);
      form.querySelector("[data-field=all_organizations]")?.classList.toggle("d-none", staff);
      form.querySelector("[data-field=staff_role]")?.classList.toggle("d-none", !staff);
    };
    kind?.addEventListener("change", show);
    if (kind) show();
  });
  document.querySelectorAll("[data-confirm]").forEach((element) => {
    element.addEventListener("click", (event) => {
      if (!window.confirm(element.dataset.confirm)) event.preventDefault();
    });
  });
});
