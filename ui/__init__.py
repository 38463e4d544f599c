"""The browser chat for the ``qa`` engine (``qa serve``): a Gradio app in ``ui.app``."""
