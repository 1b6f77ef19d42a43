// Progressive enhancement only: every page works without it.
import { initAll } from "/frontend/govuk-frontend.min.js";

initAll();
