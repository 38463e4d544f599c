"""The chat's browser-side script (kept in Python so it ships with the package), run once per page load.

- A click (or Enter) on a link in a reply (``.qa-jump``: the answer, ``[n]``, another candidate, a closest
  passage) writes ``"reply:key:nonce"`` (from its ``href``, ``#qa-jump-reply-key``) into the hidden ``#qa-jump`` box, whose change event asks the
  server for that document view; the event's ``SCROLL_TO_HIT`` then scrolls to the span and flashes it.
- "Copy with citation" copies the reply's ``.qa-copytext``.
- The upload area loses Gradio's ``aria-label``, so its visible text is its accessible name.
The script adds listeners only; it never builds HTML from text.
"""

CLIENT_JS = r"""
() => {
  if (window.__qaClient) return;
  window.__qaClient = true;
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
  // Gradio's upload area is named differently from what it shows; let its visible text name it
  const nameUploads = () => document.querySelectorAll('#qa-upload .upload-container[aria-label]')
    .forEach((e) => e.removeAttribute('aria-label'));
  new MutationObserver(nameUploads).observe(document.body, {childList: true, subtree: true});
  document.addEventListener('click', (event) => {
    const link = event.target.closest && event.target.closest('#qa-chat .qa-jump');
    if (link) {
      event.preventDefault(); event.stopPropagation();
      const target = /^#qa-jump-(\d+)-([cap]\d+)$/.exec(link.getAttribute('href') || '');
      if (target) send(target[1] + ':' + target[2] + ':' + Date.now());
      return;
    }
    const button = event.target.closest && event.target.closest('#qa-chat .qa-copy');
    if (button) {
      event.preventDefault(); event.stopPropagation();
      const text = button.parentElement.querySelector('.qa-copytext');
      if (text) copy(text.textContent, button);
    }
  }, true);
}
"""

# After the document view changed: scroll its body to the span and flash it.
SCROLL_TO_HIT = """
() => {
  const body = document.querySelector('#qa-docview .qa-doc-body');
  const hit = body && body.querySelector('#qa-hit');
  if (body && hit) {
    body.scrollTop = Math.max(0, hit.offsetTop - body.offsetTop - body.clientHeight / 3);
    hit.classList.remove('qa-flash'); void hit.offsetWidth; hit.classList.add('qa-flash');
  }
}
"""

# After a link in a reply was followed: as above, and on a narrow screen bring the document view up.
SHOW_HIT = SCROLL_TO_HIT.rstrip().removesuffix("}") + """
  const view = document.querySelector('#qa-docview');
  if (view && window.innerWidth < 760) { view.scrollIntoView({block: 'start'}); }
}
"""

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
