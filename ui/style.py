"""The app's CSS (kept in Python so it ships with the package without package-data settings)."""

CSS = """
.gradio-container { max-width: 1400px !important; margin: 0 auto !important; }
.qa-header { padding: 6px 2px 2px; }
.qa-title { font-size: 1.6rem; font-weight: 700; letter-spacing: -0.01em; }
.qa-subtitle { color: var(--body-text-color-subdued); margin-top: 2px; }
.qa-placeholder { text-align: center; color: var(--body-text-color-subdued); line-height: 1.6; }
.qa-label { font-size: 0.72rem; text-transform: uppercase; letter-spacing: 0.06em; font-weight: 600;
            color: var(--body-text-color-subdued); margin: 10px 0 4px; }
.qa-try .qa-label { margin: 4px 0 0; }
#qa-examples { gap: 6px; flex-wrap: wrap; align-items: center; }
#qa-examples button.qa-example { flex: 0 1 auto !important; min-width: 0 !important; font-weight: 400; }
.qa-panel-title { font-weight: 700; font-size: 1.05rem; margin: 2px 0 6px; }
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
