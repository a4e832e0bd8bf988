// Hangar's own script: copy buttons beside every command a page shows. Pages work without it;
// it only adds buttons. Loaded with `defer`; htmx swaps call it again for the new content.
"use strict";
(function () {
  function copy(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    // Plain http on a non-local host has no clipboard API: select and copy the old way.
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "offscreen";
    document.body.appendChild(area);
    area.select();
    const done = document.execCommand("copy");
    area.remove();
    return done ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }

  function addButtons(root) {
    root.querySelectorAll("pre.command").forEach(function (pre) {
      if (pre.nextElementSibling && pre.nextElementSibling.classList.contains("copy")) return;
      const button = document.createElement("button");
      const label = pre.dataset.copy || "Copy";
      button.type = "button";
      button.className = "copy secondary";
      button.textContent = label;
      button.setAttribute("aria-label", label + ": " + pre.textContent.split("\n")[0]);
      button.addEventListener("click", function () {
        copy(pre.textContent).then(
          function () { button.textContent = "Copied"; },
          function () { button.textContent = "Select and copy by hand"; }
        );
        setTimeout(function () { button.textContent = label; }, 2000);
      });
      pre.insertAdjacentElement("afterend", button);
    });
  }

  addButtons(document);
  document.addEventListener("htmx:load", function (event) { addButtons(event.detail.elt); });
})();
