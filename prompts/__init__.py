"""Versioned prompt templates as files, rendered through LangChain prompt templates."""
