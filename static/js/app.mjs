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
        const { text } = await response.json();
        if (list.textContent.trim() !== text) list.textContent = text;
      }
    } catch {
      // Offline for a moment: try again at the next beat.
    }
  };
  // Showing the page records nothing; this endpoint does, now and then every 20 seconds.
  refresh();
  setInterval(refresh, Number(presence.dataset.presenceInterval || 20000));
}

// Follow work the task worker does (a composite, a PDF): ask `url` for its status every 1.5 s
// and hand each answer to `show`, which returns true once the work is over. Offline for a moment,
// it tries again, but not for ever (each page keeps a Refresh link).
const follow = (url, show) => {
  let failures = 0;
  const poll = async () => {
    try {
      const response = await fetch(url, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        redirect: "error", // signed out: stop rather than read the sign-in page
      });
      if (response.ok) {
        failures = 0;
        if (show(await response.json())) return;
      } else {
        failures += 1;
      }
    } catch {
      failures += 1;
    }
    if (failures < 5) setTimeout(poll, 1500);
  };
  setTimeout(poll, 1000);
};

// The composite workbook's build: show its progress until it is ready, then offer the download.
const composite = document.querySelector("[data-composite-url]");
if (composite && composite.dataset.compositeStatus === "building") {
  const bar = composite.querySelector("progress");
  const status = composite.querySelector("[data-testid=composite-status]");
  const download = document.querySelector("[data-composite-download]");
  const refresh = document.querySelector("[data-composite-refresh]");
  const messages = {
    done: (job) => `Ready: ${job.total} areas.`,
    building: (job) => `Building: ${job.done} of ${job.total} areas.`,
    stalled: () => "This build stopped before it finished (the server may have restarted). Start a new one.",
    failed: () => "The build failed. Start a new one; if it fails again, tell the service desk.",
  };
  follow(composite.dataset.compositeUrl, (job) => {
    bar.value = job.percent;
    bar.textContent = `${job.percent}%`;
    const text = (messages[job.status] || messages.failed)(job);
    if (status.textContent.trim() !== text) status.textContent = text;
    if (job.status === "building") return false;
    if (job.status === "done") download.hidden = false;
    if (refresh) refresh.hidden = true;
    return true;
  });
}

// A plan's PDF is printed by the task worker: follow the print, then offer the download.
const printing = document.querySelector("[data-print-url]");
if (printing) {
  const status = printing.querySelector("[data-testid=print-status]");
  const download = document.querySelector("[data-print-download]");
  const refresh = document.querySelector("[data-print-refresh]");
  follow(printing.dataset.printUrl, (file) => {
    if (file.status === "printing") return false;
    if (file.status === "done") {
      status.textContent = "The PDF is ready.";
      download.hidden = false;
    } else {
      status.textContent = `The PDF could not be made: ${file.reason}. Download the Excel workbook instead, or try again later.`;
    }
    refresh.hidden = true;
    return true;
  });
}

// The risk-share calculator works out who bears an over-spend on its own page. Here it asks that
// page with the basis and shares as this page shows them, saved or not, and shows the answer in
// place, so nothing typed on this page is lost. Without this script the form opens that page.
document.addEventListener("submit", async (event) => {
  const calculator = event.target.closest("[data-risk-share]");
  if (!calculator) return;
  event.preventDefault();
  const query = new URLSearchParams(new FormData(calculator));
  const basis = document.querySelector("input[name=risk_share_basis]:checked");
  if (basis) {
    query.set("risk_share_basis", basis.value);
    for (const share of document.querySelectorAll("input[name^=share_]")) {
      query.set(share.name, share.value);
    }
  }
  try {
    const response = await fetch(`${calculator.action}?${query}`, {
      credentials: "same-origin",
      redirect: "error",
    });
    if (!response.ok) throw new Error(`${response.status}`);
    const page = new DOMParser().parseFromString(await response.text(), "text/html");
    const card = page.querySelector("[data-risk-share-card]");
    calculator.closest("[data-risk-share-card]").replaceWith(card);
    const result = card.querySelector("[data-risk-share-result]");
    const answered = result.children.length && !card.querySelector("#overspend-error");
    (answered ? result : card.querySelector("#overspend")).focus();
  } catch {
    calculator.submit(); // the calculator's own page, with the saved shares
  }
});
