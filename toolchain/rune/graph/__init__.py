"""Pipelines drawn as Graphviz graphs."""
