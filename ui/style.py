"""The app's CSS (kept in Python so it ships with the package without package-data settings)."""

CSS = """
.gradio-container { max-width: 1400px !important; margin: 0 auto !important; }
.qa-header { padding: 6px 2px 2px; }
.qa-title { font-size: 1.6rem !important; font-weight: 700; letter-spacing: -0.01em; margin: 0 !important; }
.qa-subtitle { color: var(--body-text-color-subdued); margin-top: 2px; }
.qa-placeholder { text-align: center; color: var(--body-text-color-subdued); line-height: 1.6; }
.qa-label { font-size: 0.72rem; text-transform: uppercase; letter-spacing: 0.06em; font-weight: 600;
            color: var(--body-text-color-subdued); margin: 10px 0 4px; }
.qa-try .qa-label { margin: 4px 0 0; }
#qa-examples { gap: 6px; flex-wrap: wrap; align-items: center; }
#qa-examples button.qa-example { flex: 0 1 auto !important; min-width: 0 !important; font-weight: 400; }
.qa-panel-title { font-weight: 700; font-size: 1.05rem !important; margin: 2px 0 6px !important; }
.qa-help { color: var(--body-text-color-subdued); font-size: 0.9rem; margin-bottom: 6px; }

/* replies */
.qa-reply { line-height: 1.5; }
.qa-answer-line { display: flex; align-items: baseline; gap: 10px; flex-wrap: wrap; }
.qa-answer { font-size: 1.25rem; font-weight: 700; }
.qa-conf { font-size: 0.78rem; padding: 1px 8px; border-radius: 999px; font-weight: 600; white-space: nowrap; }
.qa-conf-high { background: #dcfce7; color: #166534; }
.qa-conf-medium { background: #fef9c3; color: #854d0e; }
.qa-conf-low { background: #fee2e2; color: #991b1b; }
.qa-quote { margin: 8px 0 2px !important; padding: 6px 12px !important; border-left: 3px solid #818cf8 !important;
            background: var(--background-fill-secondary); border-radius: 0 6px 6px 0; font-style: normal !important; }
.qa-reply mark, .qa-doc mark { background: #fde047; color: #111827; padding: 0 2px; border-radius: 3px; }
.qa-sent { background: rgba(129, 140, 248, 0.16); border-radius: 3px; }
.qa-refs .qa-num { margin-left: 2px; }
.qa-num { color: #4f46e5; font-weight: 700; font-size: 0.85em; }
.qa-cites { list-style: none !important; padding-left: 0 !important; margin: 4px 0 0 !important; }
.qa-cite { margin: 4px 0 !important; padding: 0 !important; }
.qa-cite details { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 4px 10px; }
.qa-cite details[open] { background: var(--background-fill-secondary); }
.qa-cite summary { cursor: pointer; }
.qa-src { font-weight: 600; word-break: break-all; }
.qa-range { color: var(--body-text-color-subdued); font-size: 0.82em; margin-left: 6px; }
.qa-passage { font-size: 0.9rem; padding: 6px 0 4px; max-height: 260px; overflow: auto; }
.qa-snippet { color: var(--body-text-color-subdued); font-size: 0.88rem; margin: 2px 0 2px 1.6em; }
.qa-notice { font-size: 0.85rem; color: #92400e; margin-bottom: 4px; }
.qa-notfound { border-left: 4px solid #f59e0b; padding-left: 10px; }
.qa-nf-title { font-weight: 700; font-size: 1.1rem; color: #b45309; }
.qa-nf-why { color: var(--body-text-color-subdued); font-size: 0.9rem; }
.qa-error { color: #b91c1c; }
.qa-question { white-space: pre-wrap; }

/* document view */
#qa-docview { min-height: 200px; }
.qa-doc { border: 1px solid var(--border-color-primary); border-radius: 10px; overflow: hidden; }
.qa-doc-head { display: flex; justify-content: space-between; gap: 8px; flex-wrap: wrap; padding: 8px 12px;
               background: var(--background-fill-secondary); border-bottom: 1px solid var(--border-color-primary); }
.qa-doc-note { font-size: 0.8rem; color: var(--body-text-color-subdued); padding: 4px 12px 0; }
.qa-doc-body { max-height: 560px; overflow: auto; padding: 10px 14px; line-height: 1.6; font-size: 0.92rem;
               position: relative; }
.qa-doc-empty { padding: 18px; color: var(--body-text-color-subdued); line-height: 1.6; }

/* documents tab */
.qa-docs-head { margin: 6px 0 8px; color: var(--body-text-color-subdued); }
.qa-table { width: 100%; border-collapse: collapse; font-size: 0.92rem; }
.qa-table th { text-align: left; font-weight: 600; border-bottom: 2px solid var(--border-color-primary); padding: 6px 8px; }
.qa-table td { border-bottom: 1px solid var(--border-color-primary); padding: 6px 8px; }
.qa-numcol { text-align: right; font-variant-numeric: tabular-nums; }
.qa-status ul { margin: 6px 0; padding-left: 1.2em; }
.qa-status { border-radius: 8px; padding: 4px 12px; margin-top: 8px; }
.qa-status-ok { background: rgba(34, 197, 94, 0.12); border: 1px solid rgba(34, 197, 94, 0.4); }
.qa-status-warn { background: rgba(245, 158, 11, 0.12); border: 1px solid rgba(245, 158, 11, 0.45); }
.qa-status-error { background: rgba(239, 68, 68, 0.12); border: 1px solid rgba(239, 68, 68, 0.45); }
"""
CSS += """
.qa-table th, .qa-table td { border: none !important; border-bottom: 1px solid var(--border-color-primary) !important;
                             background: transparent !important; }
.qa-table th { border-bottom-width: 2px !important; }
.qa-cite details[open] .qa-snippet { display: none; }
"""
CSS += """
.qa-table, .qa-table tr, .qa-table thead, .qa-table tbody { border: none !important; }
"""

CSS += """
/* links into the document view: the answer, [n], other candidates, closest passages */
a.qa-jump { color: inherit; text-decoration: none; cursor: pointer; }
a.qa-answer { text-decoration: underline dotted 1px; text-underline-offset: 4px; }
a.qa-jump:focus-visible, .qa-copy:focus-visible { outline: 2px solid #6366f1; outline-offset: 2px; border-radius: 4px; }
a.qa-ref { position: relative; display: inline-block; color: #4338ca; font-weight: 700; font-size: 0.85em;
           padding: 0 2px; margin-left: 2px; text-decoration: none; }
a.qa-ref:hover { text-decoration: underline; }
.qa-tip { display: none; position: absolute; z-index: 20; left: 0; top: 1.6em; width: min(22rem, 70vw);
          padding: 8px 10px; border-radius: 8px; font-weight: 400; font-size: 0.85rem; line-height: 1.45;
          background: var(--background-fill-primary); color: var(--body-text-color);
          border: 1px solid var(--border-color-primary); box-shadow: 0 6px 18px rgba(0, 0, 0, 0.18); }
a.qa-ref:hover .qa-tip, a.qa-ref:focus .qa-tip { display: block; }
.qa-cite { display: flex; gap: 6px; align-items: flex-start; }
.qa-cite > details, .qa-closest-body { flex: 1; min-width: 0; }
.qa-cite > a.qa-ref { margin-top: 5px; }
.qa-place { font-weight: 600; }
.qa-file { font-size: 0.8rem; color: var(--body-text-color-subdued); margin: 6px 0 2px; word-break: break-all; }
.qa-passage-full { font-size: 0.92rem; line-height: 1.5; color: var(--body-text-color); margin: 2px 0 6px; }
.qa-closest { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 6px 10px !important; }
.qa-actions { margin-top: 8px; }
.qa-copy { font-size: 0.8rem; padding: 2px 10px; border-radius: 6px; cursor: pointer;
           border: 1px solid var(--border-color-primary); background: var(--background-fill-primary);
           color: var(--body-text-color); }
.qa-copytext { display: none; }

/* how sure a reply is */
.qa-tentative { border-left: 4px dashed #d97706; padding-left: 10px; }
.qa-tentative-title { font-weight: 700; color: #92400e; margin-bottom: 2px; }
.qa-tentative a.qa-answer { font-weight: 500; font-style: italic; }
.qa-alts { margin: 2px 0 4px 1.2em !important; padding: 0 !important; }
.qa-alt a.qa-alt-answer { font-weight: 600; text-decoration: underline dotted 1px; }
.qa-nf-title { color: #92400e; }
.qa-nf-why { color: var(--body-text-color) !important; }
.qa-gone { font-size: 0.85rem; color: #991b1b; background: rgba(239, 68, 68, 0.1); border-radius: 6px;
           padding: 2px 8px; margin-bottom: 6px; }
.qa-doc-title { font-weight: 600; }
@keyframes qa-flash { 0% { box-shadow: 0 0 0 6px rgba(250, 204, 21, 0.9); } 100% { box-shadow: 0 0 0 0 rgba(250, 204, 21, 0); } }
.qa-flash { animation: qa-flash 1.2s ease-out 2; }

/* dark mode: readable highlights and badges */
.dark .qa-reply mark, .dark .qa-doc mark { background: #facc15; color: #111827; }
.dark .qa-sent { background: rgba(129, 140, 248, 0.32); }
.dark a.qa-ref { color: #a5b4fc; }
.dark .qa-tentative-title, .dark .qa-nf-title, .dark .qa-notice { color: #fcd34d; }
.dark .qa-gone { color: #fecaca; }
.dark .qa-error { color: #fca5a5; }

/* documents tab */
.qa-doc-name { display: block; font-weight: 600; }
.qa-table td .qa-src { font-weight: 400; }
.qa-table th.qa-numcol { text-align: right; }
button.qa-danger { background: #b91c1c !important; color: #fff !important; border-color: #991b1b !important; }
#qa-confirm { padding: 10px; border: 2px solid #dc2626 !important; border-radius: 8px; }
.qa-confirm-text { padding: 4px 2px 8px; }

/* layout: the chat fills the window; no control runs under another */
#qa-chat-actions { gap: 6px; justify-content: flex-start; }
#qa-chat-actions button { flex: 0 0 auto !important; min-width: 0 !important; }
#qa-docview-col .qa-doc-body { max-height: calc(100dvh - 260px); min-height: 200px; }
#qa-cite-choice input { text-overflow: ellipsis; padding-right: 28px !important; }
/* Gradio's "scroll down" arrow gets a strip of its own under the messages, never over their text */
#qa-chat .wrapper:has(> .scroll-down-button-container) > .bubble-wrap { height: calc(100% - 48px); }
#qa-chat .scroll-down-button-container { bottom: 8px !important; }
/* Gradio's trash icon floats over the messages; "Clear chat" under them does the same */
#qa-chat .top-panel { display: none !important; }
.qa-docview-head { display: flex; align-items: center; justify-content: space-between; gap: 8px; }
.qa-sheet-close { display: none; }
/* a refused upload: the reason (client.py), not Gradio's bare "Error" over the drop zone */
#qa-upload > [data-testid="status-tracker"]:has(.error) { display: none !important; }
.qa-upload-note { margin-top: 8px; padding: 6px 10px; border-radius: 8px; font-size: 0.9rem; line-height: 1.45;
                  color: #991b1b; background: rgba(239, 68, 68, 0.1); border: 1px solid rgba(239, 68, 68, 0.45); }
.qa-upload-note[hidden] { display: none; }
.dark .qa-upload-note { color: #fecaca; }
@media (max-width: 760px) {
  /* the chat above, the document view under it */
  #qa-chat-row > .column { min-width: 100% !important; }
  /* a followed link opens the document view as a sheet over the chat (client.py); its body scrolls */
  #qa-docview-col.qa-sheet-open { position: fixed !important; top: 6dvh; left: 0; right: 0; bottom: 0;
    z-index: 1000; margin: 0 !important; flex-wrap: nowrap !important; gap: 8px !important;
    padding: 10px 12px calc(10px + env(safe-area-inset-bottom)) !important;
    background: var(--background-fill-primary); border-radius: 14px 14px 0 0;
    box-shadow: 0 0 0 100vmax rgba(15, 23, 42, 0.45), 0 -6px 24px rgba(0, 0, 0, 0.35); }
  #qa-docview-col.qa-sheet-open > * { flex: 0 0 auto; }
  #qa-docview-col.qa-sheet-open > #qa-docview, #qa-docview-col.qa-sheet-open #qa-docview .html-container,
  #qa-docview-col.qa-sheet-open #qa-docview .prose, #qa-docview-col.qa-sheet-open .qa-doc {
    display: flex; flex-direction: column; flex: 1 1 auto; min-height: 0; }
  #qa-docview-col.qa-sheet-open .qa-doc-body { flex: 1 1 auto; min-height: 0; max-height: none; }
  #qa-docview-col.qa-sheet-open .qa-panel-title { margin: 0 !important; }
  #qa-docview-col.qa-sheet-open .qa-sheet-close { display: inline-block; min-height: 40px; padding: 6px 16px;
    border: 1px solid var(--border-color-primary); border-radius: 8px; background: var(--background-fill-secondary);
    color: var(--body-text-color); font-size: 0.95rem; font-weight: 600; cursor: pointer; }
  .qa-sheet-close:focus-visible { outline: 2px solid #6366f1; outline-offset: 2px; }
  html.qa-sheet-shown, html.qa-sheet-shown body { overflow: hidden !important; }
  .gradio-container { padding: 4px 6px !important; }
  .qa-title { font-size: 1.2rem !important; }
  .qa-subtitle { font-size: 0.8rem; }
  #qa-chat { height: calc(100dvh - 290px) !important; min-height: 220px !important; }
  #qa-examples button.qa-example { font-size: 0.8rem; }
  #qa-docview-col .qa-doc-body { max-height: 70dvh; }
}

/* contrast (axe-core, WCAG AA) */
.qa-subtitle, .qa-label, .qa-help, .qa-docs-head, .qa-range, .qa-file, .qa-doc-note, .qa-placeholder,
.qa-doc-empty, .qa-snippet { color: var(--body-text-color-subdued) !important; }
button.primary, #qa-send { background: #4338ca !important; color: #fff !important; }
/* Gradio draws chat messages at 80% opacity (the confidence badge and labels fell below 4.5:1) and the
   selected tab in indigo-500 (4.46:1 on white) */
#qa-chat .message-wrap .prose.chatbot.md { opacity: 1 !important; }
button[role="tab"].selected { color: #4338ca !important; }
.dark button[role="tab"].selected { color: #a5b4fc !important; }
"""
