// Loaded as a module, so it runs only in browsers the NHS.UK frontend supports.
import { initAll } from "../nhsuk/nhsuk-frontend.min.js";

document.body.classList.add("js-enabled", "nhsuk-frontend-supported");
initAll();
