#!/usr/bin/env python3
"""Writes a synthetic OpenAPI 3.0 document with OPS operations in TAGS tags (JSON, stdout).

Used for the compile-cost figures of BENCHMARKS section 4 (features per tag): every operation
has a path parameter, an optional query parameter and its own response schema of six fields,
two of which are types shared by every operation of its tag and by the whole document.

    python3 scripts/synthetic-document.py 1000 20 > /tmp/synthetic-1000.json
"""
import json
import sys

ops = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
tags = int(sys.argv[2]) if len(sys.argv) > 2 else 20
schemas = {
    "Adresse": {
        "type": "object",
        "properties": {"ligne": {"type": "string"}, "code_postal": {"type": "string"}},
    }
}
paths = {}
for t in range(tags):
    schemas[f"Resume{t}"] = {
        "type": "object",
        "required": ["id"],
        "properties": {"id": {"type": "string"}, "total": {"type": "integer"}},
    }
for i in range(ops):
    t = i % tags
    name = f"Ressource{i}"
    schemas[name] = {
        "type": "object",
        "required": ["id", "etat"],
        "properties": {
            "id": {"type": "string"},
            "etat": {"type": "string", "enum": ["actif", "ferme", "suspendu"]},
            "montant": {"type": "number"},
            "cree_le": {"type": "string", "format": "date-time"},
            "adresse": {"$ref": "#/components/schemas/Adresse"},
            "resume": {"$ref": f"#/components/schemas/Resume{t}"},
        },
    }
    paths[f"/domaine{t}/ressources{i}/{{id}}"] = {
        "get": {
            "operationId": f"lireRessource{i}",
            "tags": [f"Domaine {t}"],
            "parameters": [
                {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}},
                {"name": "depuis", "in": "query", "schema": {"type": "string", "format": "date"}},
            ],
            "responses": {
                "200": {
                    "description": "ok",
                    "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}},
                },
                "404": {"description": "absent"},
            },
        }
    }
doc = {
    "openapi": "3.0.3",
    "info": {"title": f"Synthetic {ops}", "version": "1.0"},
    "servers": [{"url": "https://api.example.invalid/v1"}],
    "paths": paths,
    "components": {"schemas": schemas},
}
json.dump(doc, sys.stdout, indent=1)
