"""The index as tools for AI assistants, over the Model Context Protocol (``qa mcp``, ``qa serve --mcp``).

``qa.mcp.tools`` says what the tools take and return (plain functions over the chat's ``Service``, no
SDK); ``qa.mcp.server`` puts them on the wire with the official ``mcp`` SDK, over stdio or HTTP.
"""
