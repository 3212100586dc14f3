// Loaded as a module, so it runs only in browsers the NHS.UK frontend supports.
import { initAll } from "../nhsuk/nhsuk-frontend.min.js";

document.body.classList.add("js-enabled", "nhsuk-frontend-supported");
initAll();

// "Who else has this part open": tell the server we are here every 20 seconds and show its answer.
const presence = document.querySelector("[data-presence-url]");
if (presence) {
  const url = presence.dataset.presenceUrl;
  const token = presence.querySelector("input[name=csrfmiddlewaretoken]").value;
  const list = presence.querySelector("[data-testid=presence]");
  const refresh = async () => {
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "X-CSRFToken": token },
        credentials: "same-origin",
      });
      if (response.ok) {
        const text = (await response.text()).trim();
        if (list.textContent.trim() !== text) list.textContent = text;
      }
    } catch {
      // Offline for a moment: try again at the next beat.
    }
  };
  setInterval(refresh, Number(presence.dataset.presenceInterval || 20000));
}
