"""The chat's browser-side script (kept in Python so it ships with the package), run once per page load.

- A click (or Enter) on a link in a reply (``.qa-jump``: the answer, ``[n]``, another candidate, a closest
  passage) writes ``"reply:key:nonce"`` (from its ``href``, ``#qa-jump-reply-key``) into the hidden ``#qa-jump`` box, whose change event asks the
  server for that document view; the event's ``SCROLL_TO_HIT`` then scrolls to the span and flashes it.
- On a narrow screen (``NARROW``, where the document view sits under the chat) the document view a link
  opened is a sheet over the chat (``#qa-docview-col.qa-sheet-open``, a modal dialog): focus moves to its
  "Close" button (``.qa-sheet-close``, shown only there) and stays inside it; Close, Escape or a tap beside it
  closes it and focus goes back to the link. The sheet is the document view's own column, restyled: its
  content is Gradio's, never copied.
- "Copy with citation" copies the reply's ``.qa-copytext``.
- The upload area loses Gradio's ``aria-label``, so its visible text is its accessible name. Files Gradio
  would refuse (a type not in ``#qa-upload-note``'s ``data-types``, or over its ``data-max-bytes``) are
  named with the reason in that note, instead of Gradio's bare "Error" (hidden by the CSS); any other
  failed upload shows Gradio's own message there.
The script adds listeners only; it never builds HTML from text (messages are set as ``textContent``).
"""

# The width at or below which the chat and the document view are stacked (style.py's media query)
NARROW = "(max-width: 760px)"

CLIENT_JS = r"""
() => {
  if (window.__qaClient) return;
  window.__qaClient = true;
  const NARROW = '__NARROW__';
  const send = (value) => {
    const box = document.querySelector('#qa-jump textarea, #qa-jump input');
    if (!box) return;
    box.value = value;
    box.dispatchEvent(new Event('input', {bubbles: true}));
  };
  const copy = async (text, button) => {
    try { await navigator.clipboard.writeText(text); }
    catch (e) {
      const area = document.createElement('textarea');
      area.value = text; document.body.appendChild(area); area.select();
      document.execCommand('copy'); area.remove();
    }
    window.__qaCopied = text;
    const label = button.textContent;
    button.textContent = 'Copied'; setTimeout(() => { button.textContent = label; }, 1500);
  };

  // --- the document view as a sheet over the chat, on narrow screens ---
  let opener = null;  // the link whose place the sheet shows: focus goes back to it
  const column = () => document.querySelector('#qa-docview-col');
  const isOpen = () => { const c = column(); return !!(c && c.classList.contains('qa-sheet-open')); };
  const focusables = (root) => [...root.querySelectorAll(
    'button, [href], input, textarea, select, [tabindex]:not([tabindex="-1"])')]
    .filter((e) => !e.disabled && e.getClientRects().length > 0);
  const openSheet = () => {
    const c = column();
    if (!c || !window.matchMedia(NARROW).matches) return false;
    if (!isOpen()) {
      c.classList.add('qa-sheet-open');
      c.setAttribute('role', 'dialog'); c.setAttribute('aria-modal', 'true');
      c.setAttribute('aria-label', 'Document view');
      document.documentElement.classList.add('qa-sheet-shown');
    }
    const close = c.querySelector('.qa-sheet-close');
    if (close) close.focus({preventScroll: true});
    return true;
  };
  const closeSheet = (refocus) => {
    const c = column();
    if (!c || !isOpen()) return;
    c.classList.remove('qa-sheet-open');
    ['role', 'aria-modal', 'aria-label'].forEach((a) => c.removeAttribute(a));
    document.documentElement.classList.remove('qa-sheet-shown');
    if (refocus && opener) {
      // the chat may have been redrawn since: the same link by its target
      const back = document.contains(opener.link) ? opener.link
        : document.querySelector('#qa-chat a.qa-jump[href="' + opener.href + '"]');
      if (back) back.focus();
    }
    opener = null;
  };
  window.__qaSheet = {open: openSheet, close: closeSheet, isOpen};
  window.matchMedia(NARROW).addEventListener('change', (e) => { if (!e.matches) closeSheet(false); });
  document.addEventListener('keydown', (event) => {
    if (!isOpen()) return;
    if (event.key === 'Escape') {
      const list = document.activeElement && document.activeElement.getAttribute('aria-expanded') === 'true';
      if (!list) { event.preventDefault(); closeSheet(true); }  // an open "Showing" list closes first
      return;
    }
    if (event.key === 'Tab') {  // a modal dialog: Tab goes round inside it
      const items = focusables(column());
      if (!items.length) return;
      const first = items[0], last = items[items.length - 1];
      const inside = column().contains(document.activeElement);
      if (event.shiftKey && (document.activeElement === first || !inside)) { event.preventDefault(); last.focus(); }
      else if (!event.shiftKey && (document.activeElement === last || !inside)) { event.preventDefault(); first.focus(); }
    }
  }, true);

  // --- uploads: a refused file is named with its reason, not a bare "Error" ---
  const nameUploads = () => document.querySelectorAll('#qa-upload .upload-container[aria-label]')
    .forEach((e) => e.removeAttribute('aria-label'));
  const note = () => document.querySelector('#qa-upload-note');
  const say = (text) => {
    const n = note();
    if (!n) return;
    n.textContent = text || '';
    n.hidden = !text;
  };
  const size = (bytes) => bytes >= 1048576 ? (bytes / 1048576).toFixed(1) + ' MB' : Math.ceil(bytes / 1024) + ' KB';
  const checkFiles = (files) => {
    const n = note();
    if (!n || !files || !files.length) return;
    const types = (n.dataset.types || '').split(' ').filter(Boolean);
    const max = Number(n.dataset.maxBytes || 0);
    const wrongType = [], tooBig = [];
    for (const f of files) {
      const dot = f.name.lastIndexOf('.');
      const suffix = dot > 0 ? f.name.slice(dot).toLowerCase() : '';
      if (types.length && !types.includes(suffix)) {
        wrongType.push(f.name + ' (' + (suffix ? suffix + ' files are' : 'a file without a type is')
                       + ' not supported)');
      } else if (max && f.size > max) {
        tooBig.push(f.name + ' (' + size(f.size) + ', over the ' + size(max) + ' limit)');
      }
    }
    if (!wrongType.length && !tooBig.length) { say(''); return; }
    // Gradio uploads the files of a supported type, unless one of them is too big: then none
    say((tooBig.length ? 'Nothing was uploaded: ' : 'Not uploaded: ') + tooBig.concat(wrongType).join('; ')
        + '. Supported: ' + types.join(', ') + (max ? ', up to ' + size(max) + ' each.' : '.'));
  };
  const toastsSeen = new WeakSet();
  const uploadFailed = () => {  // Gradio refused an upload for a reason not foreseen above: its own words
    if (!document.querySelector('#qa-upload [data-testid="status-tracker"] .error')) return;
    const fresh = [...document.querySelectorAll('[data-testid="toast-text"].error')]
      .filter((t) => !toastsSeen.has(t));
    fresh.forEach((t) => toastsSeen.add(t));
    const n = note();
    if (fresh.length && n && n.hidden) say('Not uploaded: ' + fresh[fresh.length - 1].textContent.trim());
  };
  new MutationObserver(() => { nameUploads(); uploadFailed(); })
    .observe(document.body, {childList: true, subtree: true});
  document.addEventListener('change', (event) => {
    if (event.target.closest && event.target.closest('#qa-upload') && event.target.files) {
      checkFiles(event.target.files);
    }
  }, true);
  document.addEventListener('drop', (event) => {
    if (event.target.closest && event.target.closest('#qa-upload') && event.dataTransfer) {
      checkFiles(event.dataTransfer.files);
    }
  }, true);

  document.addEventListener('click', (event) => {
    const target = event.target;
    if (!target.closest) return;
    if (isOpen()) {
      if (target.closest('.qa-sheet-close') || !target.closest('#qa-docview-col')) {
        event.preventDefault(); event.stopPropagation();  // a tap beside the sheet only closes it
        closeSheet(true);
      }
      return;
    }
    const link = target.closest('#qa-chat .qa-jump');
    if (link) {
      event.preventDefault(); event.stopPropagation();
      const href = link.getAttribute('href') || '';
      const place = /^#qa-jump-(\d+)-([cap]\d+)$/.exec(href);
      if (place) {
        opener = {link, href};
        send(place[1] + ':' + place[2] + ':' + Date.now());
      }
      return;
    }
    const button = target.closest('#qa-chat .qa-copy');
    if (button) {
      event.preventDefault(); event.stopPropagation();
      const text = button.parentElement.querySelector('.qa-copytext');
      if (text) copy(text.textContent, button);
    }
  }, true);
}
""".replace("__NARROW__", NARROW)

# After the document view changed: scroll its body to the span and flash it.
SCROLL_TO_HIT = """
() => {
  const body = document.querySelector('#qa-docview .qa-doc-body');
  const hit = body && body.querySelector('#qa-hit');
  if (body && hit) {
    const offset = hit.getBoundingClientRect().top - body.getBoundingClientRect().top;
    body.scrollTop = Math.max(0, body.scrollTop + offset - body.clientHeight / 3);
    hit.classList.remove('qa-flash'); void hit.offsetWidth; hit.classList.add('qa-flash');
  }
}
"""

# After a link in a reply was followed: on a narrow screen the document view opens as a sheet over the
# chat (see CLIENT_JS) before it is scrolled to the span as above.
SHOW_HIT = """
() => {
  if (window.__qaSheet) window.__qaSheet.open();
""" + SCROLL_TO_HIT.strip().removeprefix("() => {")

# "Export chat": the Markdown made by the server (``transcript.to_markdown``) downloaded as a file.
DOWNLOAD_MARKDOWN = """
(text) => {
  const url = URL.createObjectURL(new Blob([text || ''], {type: 'text/markdown'}));
  const a = document.createElement('a');
  a.href = url; a.download = 'questions-and-answers.md';
  document.body.appendChild(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
  return [];
}
"""
