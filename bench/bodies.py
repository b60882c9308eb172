"""Response bodies for the decode/encode benchmark, made from the committed
Drive v3 discovery document: a `FileList` of 100 files with the 21 fields a
typical listing asks for, and one with every field set, nested objects two
levels deep.

Deterministic (no randomness): the same bytes every run.

    python3 bench/bodies.py bench/target
"""

import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOC = json.loads((ROOT / "discovery-docs" / "drive.v3.json").read_text())
SCHEMAS = DOC["schemas"]

# The fields a typical `files.list(fields=...)` asks for.
COMMON = ["kind", "id", "name", "mimeType", "description", "starred", "trashed",
          "parents", "version", "webViewLink", "iconLink", "hasThumbnail",
          "thumbnailVersion", "createdTime", "modifiedTime", "modifiedByMe",
          "owners", "shared", "ownedByMe", "size", "md5Checksum"]


def value(schema, name, i, depth):
    """A plausible value for `schema` (file number `i`)."""
    if "$ref" in schema:
        return obj(SCHEMAS[schema["$ref"]], i, depth + 1)
    t = schema.get("type")
    fmt = schema.get("format")
    if t == "string":
        if "enum" in schema:
            return schema["enum"][i % len(schema["enum"])]
        if fmt in ("date-time", "google-datetime"):
            return f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:07.{i % 1000:03d}Z"
        if fmt in ("int64", "uint64"):
            return str(1000003 * (i + 1))
        if fmt == "byte":
            return "aGVsbG8gd29ybGQ="
        if name.endswith("Link"):
            return f"https://drive.google.com/file/d/1aBcDeFgHiJkLmNoPqRsTuVwXyZ{i:04d}/view?usp=drivesdk"
        return f"{name}-value-{i:04d}-abcdefghij"
    if t == "boolean":
        return (i + len(name)) % 2 == 0
    if t == "integer":
        return (i * 37 + len(name)) % 100000
    if t == "number":
        return (i * 37 + len(name)) / 7.0
    if t == "array":
        return [value(schema["items"], name, i + k, depth) for k in range(2)]
    if t == "object":
        if "properties" in schema:
            return obj(schema, i, depth + 1)
        if "additionalProperties" in schema:
            return {f"key{k}": value(schema["additionalProperties"], name, i + k, depth) for k in range(2)}
        return {}
    return None


def obj(schema, i, depth, only=None):
    props = schema.get("properties", {})
    out = {}
    for k in sorted(props):
        if only is not None and k not in only:
            continue
        nested = props[k].get("type") in ("object", "array") or "$ref" in props[k]
        if nested and depth >= 2:
            continue
        v = value(props[k], k, i, depth)
        if v is not None:
            out[k] = v
    return out


def file_list(only):
    files = [obj(SCHEMAS["File"], i, 0, only) for i in range(100)]
    return {"kind": "drive#fileList", "incompleteSearch": False,
            "nextPageToken": "~!!~AI9FV7TxYz0123456789", "files": files}


def main():
    out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "bench" / "target")
    out.mkdir(parents=True, exist_ok=True)
    for name, only in (("filelist_common.json", set(COMMON)), ("filelist_full.json", None)):
        body = json.dumps(file_list(only), separators=(",", ":"))
        (out / name).write_text(body)
        print(f"{name}: {len(body)} bytes")


if __name__ == "__main__":
    main()
