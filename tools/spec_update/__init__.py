"""Derive openapi.yaml from the upstream OpenAI document (see tools/update_spec.py), and report what changed."""
