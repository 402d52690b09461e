"""Extracts the Miva JSON API's functions and models from the public source
of Miva's official Python SDK (merchantapi) into our own spec format
(`miva-api.json`, documented in README.md beside this script).

Usage:
  python extract_merchantapi.py            # print the spec to stdout
  python extract_merchantapi.py --write    # write miva-api.json beside this script
  python extract_merchantapi.py --check    # exit 1 if miva-api.json differs

It reads the installed `merchantapi` package (pip install merchantapi==2.7.0;
`cargo xtask test` has it in target/python-venv) with Python's `ast` module:
nothing of the SDK is run, and only facts are taken (function names, scopes,
field names, the types the SDK annotates, search/sort/on-demand columns,
custom filter values, which model a response carries). No code or prose of
the SDK is copied.

Where the SDK says nothing, the spec says so: `required` is not known to
the SDK; `always_sent` records that the SDK sends the field unconditionally,
and `one_of` the identification alternatives it chooses between (an
if/elif chain in its request building).
"""
import ast
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "miva-api.json")

PY_TYPES = {
    "int": "int",
    "str": "string",
    "bool": "bool",
    "float": "decimal",
    "Decimal": "decimal",
    "dict": "object",
    "list": "list<any>",
}


def type_of(annotation):
    """Our type name for a Python annotation node."""
    if annotation is None:
        return "any"
    text = ast.unparse(annotation).strip("'\"")
    text = text.replace("merchantapi.model.", "")
    if text in PY_TYPES:
        return PY_TYPES[text]
    if text.startswith(("List[", "list[")):
        return "list<%s>" % type_of(ast.parse(text[5:-1], mode="eval").body)
    if text.startswith("Optional["):
        return type_of(ast.parse(text[9:-1], mode="eval").body)
    if text[:1].isupper() and text.isidentifier():
        return text
    return "any"


def const_list(node, names):
    """A list literal of strings (or class constants) as Python strings."""
    out = []
    for elt in getattr(node, "elts", []):
        if isinstance(elt, ast.Constant):
            out.append(elt.value)
        elif isinstance(elt, ast.Name) and elt.id in names:
            out.append(names[elt.id])
    return out


def module_docstring_scope(tree):
    doc = ast.get_docstring(tree) or ""
    for line in doc.splitlines():
        if line.startswith("Scope:"):
            return line.split(":", 1)[1].strip().rstrip(".").lower()
    return None


def first_class(tree):
    return next(n for n in tree.body if isinstance(n, ast.ClassDef))


def methods(cls):
    return {n.name: n for n in cls.body if isinstance(n, ast.FunctionDef)}


def self_attr(node):
    """`self.x` -> "x"; `self.x.to_dict()` -> "x"; else None."""
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
            and node.value.id == "self":
        return node.attr
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return self_attr(node.func.value)
    return None


def data_key(target):
    """`data['Key']` -> "Key"."""
    if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name) \
            and target.value.id == "data" and isinstance(target.slice, ast.Constant):
        return target.slice.value
    return None


class RequestFields:
    """Walks a request's to_dict: which keys, from which attributes, sent
    always or conditionally, and if/elif alternatives."""

    def __init__(self, attr_types):
        self.attr_types = attr_types
        self.fields = {}
        self.order = []
        self.one_of = []

    def add(self, key, value, always):
        attr = self_attr(value)
        kind = self.attr_types.get(attr, "any") if attr else "any"
        if isinstance(value, ast.ListComp):
            attr = self_attr(value.generators[0].iter) if value.generators else None
            kind = self.attr_types.get(attr, "list<any>") if attr else "list<any>"
        if key not in self.fields:
            self.order.append(key)
            self.fields[key] = {"name": key, "type": kind, "always_sent": always}
        elif always:
            self.fields[key]["always_sent"] = True

    def walk(self, stmts, always, in_chain=False):
        for stmt in stmts:
            if isinstance(stmt, ast.Assign):
                for target in stmt.targets:
                    key = data_key(target)
                    if key is not None:
                        self.add(key, stmt.value, always)
            elif isinstance(stmt, ast.If):
                if not in_chain:
                    chain = self.if_chain(stmt)
                    if len(chain) > 1:
                        self.one_of.append(chain)
                self.walk(stmt.body, False)
                elif_ = len(stmt.orelse) == 1 and isinstance(stmt.orelse[0], ast.If)
                self.walk(stmt.orelse, False, in_chain=elif_)
            elif isinstance(stmt, (ast.For, ast.With)):
                self.walk(stmt.body, False)

    def if_chain(self, stmt):
        """Keys assigned first in each branch of an if/elif chain."""
        keys = []
        while True:
            first = next((data_key(t) for s in stmt.body if isinstance(s, ast.Assign)
                          for t in s.targets if data_key(t)), None)
            if first:
                keys.append(first)
            if len(stmt.orelse) == 1 and isinstance(stmt.orelse[0], ast.If):
                stmt = stmt.orelse[0]
            else:
                break
        return keys


def request_spec(path):
    tree = ast.parse(open(path, encoding="utf-8").read())
    cls = first_class(tree)
    ms = methods(cls)
    fn = ms.get("get_function")
    if fn is None:
        return None
    ret = next((n for n in ast.walk(fn) if isinstance(n, ast.Return)), None)
    if ret is None or not isinstance(ret.value, ast.Constant):
        return None
    bases = [ast.unparse(b) for b in cls.bases]
    consts, lists = {}, {}
    for node in cls.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 \
                and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if isinstance(node.value, ast.Constant):
                consts[name] = node.value.value
            else:
                lists[name] = node.value
    attr_types = {}
    for name, m in ms.items():
        if name.startswith("get_") and m.returns is not None:
            attr_types[name[4:]] = type_of(m.returns)
    fields = RequestFields(attr_types)
    if "to_dict" in ms:
        fields.walk(ms["to_dict"].body, True)
    spec = {
        "name": ret.value.value,
        "scope": module_docstring_scope(tree),
        "request": {
            "fields": [fields.fields[k] for k in fields.order],
        },
        # Resolved and removed in extract(): the class and its base, for
        # requests that extend another request (they inherit its columns
        # and, through super().to_dict(), its fields).
        "_class": cls.name,
        "_base": bases[0].split(".")[-1] if bases else None,
    }
    if fields.one_of:
        spec["request"]["one_of"] = fields.one_of
    if any("ListQueryRequest" in b for b in bases) or "available_search_fields" in lists:
        custom = {}
        node = lists.get("available_custom_filters")
        if isinstance(node, ast.Dict):
            for k, v in zip(node.keys, node.values):
                if isinstance(k, ast.Constant):
                    values = const_list(v, consts) if isinstance(v, ast.List) else []
                    custom[k.value] = values
        spec["list_query"] = {
            "search": const_list(lists.get("available_search_fields"), consts),
            "sort": const_list(lists.get("available_sort_fields"), consts),
            "on_demand": const_list(lists.get("available_on_demand_columns"), consts),
            "custom_filters": custom,
        }
    return spec


def model_name_of_call(call):
    if isinstance(call, ast.Call):
        text = ast.unparse(call.func)
        if text.startswith("merchantapi.model."):
            return text[len("merchantapi.model."):]
    return None


def response_spec(path, is_list):
    """What the response's `data` holds, from what the SDK builds of it."""
    tree = ast.parse(open(path, encoding="utf-8").read())
    cls = first_class(tree)
    init = methods(cls).get("__init__")
    if init is None:
        return {"kind": "none"}
    spec = response_built(init, is_list)
    spec["_base"] = ast.unparse(cls.bases[0]).split(".")[-1] if cls.bases else None
    return spec


def response_built(init, is_list):
    """What the response's constructor builds from `data`: a model assigned
    outside any loop is one record; models built in a loop over
    data['data']['data'] are a list page, over data['data'] a bare list."""
    built = []
    in_loops = set()
    for node in ast.walk(init):
        if isinstance(node, ast.For):
            iterated = ast.unparse(node.iter).replace('"', "'")
            kind = "list_page" if "['data']['data']" in iterated else "list"
            for inner in ast.walk(node):
                in_loops.add(id(inner))
                name = model_name_of_call(inner)
                if name:
                    built.append((kind, name))
    for node in ast.walk(init):
        if isinstance(node, ast.Assign) and id(node) not in in_loops:
            name = model_name_of_call(node.value)
            if name:
                built.append(("model", name))
    if not built:
        if is_list:
            return {"kind": "list_page", "model": "any"}
        return {"kind": "none"}
    kinds = [k for k, _ in built]
    for preferred in ("model", "list_page", "list"):
        if preferred in kinds:
            return {"kind": preferred, "model": built[kinds.index(preferred)][1]}
    return {"kind": "none"}


def model_spec(path):
    tree = ast.parse(open(path, encoding="utf-8").read())
    classes = [n for n in tree.body if isinstance(n, ast.ClassDef)]
    out = []
    for cls in classes:
        ms = methods(cls)
        nested = {}
        init = ms.get("__init__")
        if init is not None:
            for node in ast.walk(init):
                # self.set_field('key', X(value)) or value[i] = X(e)
                if isinstance(node, ast.If) and isinstance(node.test, ast.Call) \
                        and ast.unparse(node.test.func) == "self.has_field" \
                        and node.test.args and isinstance(node.test.args[0], ast.Constant):
                    key = node.test.args[0].value
                    text = ast.unparse(node)
                    listy = "isinstance(value, list)" in text
                    for inner in ast.walk(node):
                        if isinstance(inner, ast.Call) and isinstance(inner.func, ast.Name) \
                                and inner.func.id[:1].isupper() and inner.func.id not in (
                                    "Exception", "Decimal"):
                            nested[key] = ("list<%s>" if listy else "%s") % inner.func.id
                            break
        fields, seen = [], set()
        for name, m in ms.items():
            if not name.startswith("get_"):
                continue
            for node in ast.walk(m):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                        and node.func.attr in ("get_field", "get_timestamp_field") \
                        and node.args and isinstance(node.args[0], ast.Constant):
                    key = node.args[0].value
                    if key in seen:
                        break
                    seen.add(key)
                    if node.func.attr == "get_timestamp_field":
                        kind = "timestamp"
                    elif key in nested:
                        kind = nested[key]
                    else:
                        kind = type_of(m.returns)
                    fields.append({"name": key, "type": kind})
                    break
        for key, kind in nested.items():
            if key not in seen:
                fields.append({"name": key, "type": kind})
        bases = [ast.unparse(b) for b in cls.bases]
        entry = {"name": cls.name, "fields": fields}
        parent = next((b for b in bases if b not in ("Model", "merchantapi.abstract.Model")), None)
        if parent:
            entry["extends"] = parent.replace("merchantapi.model.", "")
        out.append(entry)
    return out


# Facts the SDK does not carry, read from Miva's own server code (the LSK,
# GitHub mivaecommerce/miva-merchant-lsk at commit 943bd05): per-field
# operator limits of a search. Every product list runs its search through
# JSON_ProductList_Load_Query_Search_Filter (json/products.mv:2061-2064),
# where `category` with any operator but IN / NOT_IN is consumed without a
# condition, so the store returns every product. The product lists are the
# list queries that search `category` and take `Product_Show`.
CATEGORY_OPERATORS = ["IN", "NOT_IN"]


def add_store_facts(functions):
    for f in functions:
        q = f.get("list_query")
        if q and "category" in q["search"] and "Product_Show" in q["custom_filters"]:
            q["search_operators"] = {"category": list(CATEGORY_OPERATORS)}


def extract():
    import merchantapi
    root = os.path.dirname(merchantapi.__file__)
    version = None
    try:
        from importlib.metadata import version as dist_version
        version = dist_version("merchantapi")
    except Exception:
        pass
    functions = []
    for name in sorted(os.listdir(os.path.join(root, "request"))):
        if not name.endswith(".py") or name == "__init__.py":
            continue
        spec = request_spec(os.path.join(root, "request", name))
        if spec is None:
            continue
        response = os.path.join(root, "response", name)
        spec["response"] = response_spec(response, "list_query" in spec) \
            if os.path.exists(response) else {"kind": "none"}
        functions.append(spec)
    # Requests that extend another request: inherit its columns, its fields
    # (sent first, by super().to_dict()) and what its response carries.
    by_class = {f["_class"]: f for f in functions}

    def resolve(f, seen=()):
        base = by_class.get(f.get("_base"))
        if base is None or base["_class"] in seen:
            return
        resolve(base, seen + (f["_class"],))
        if "list_query" not in f and "list_query" in base:
            f["list_query"] = json.loads(json.dumps(base["list_query"]))
        own = {x["name"] for x in f["request"]["fields"]}
        inherited = [x for x in base["request"]["fields"] if x["name"] not in own]
        f["request"]["fields"] = inherited + f["request"]["fields"]
        if base["request"].get("one_of"):
            f["request"]["one_of"] = base["request"]["one_of"] + f["request"].get("one_of", [])
        response = f["response"]
        if response.get("model") in (None, "any") and base["response"].get("model") not in (None, "any"):
            kind = "list_page" if "list_query" in f else base["response"]["kind"]
            f["response"] = {"kind": kind, "model": base["response"]["model"]}

    for f in functions:
        resolve(f)
    add_store_facts(functions)
    for f in functions:
        f.pop("_class", None)
        f.pop("_base", None)
        f["response"].pop("_base", None)
        # A list query whose response the SDK builds as a bare list (it
        # loops over data['data']) keeps "list"; anything else it answers
        # is a list page.
        if "list_query" in f and f["response"]["kind"] not in ("list_page", "list"):
            f["response"] = {"kind": "list_page", "model": f["response"].get("model", "any")}
    functions.sort(key=lambda f: f["name"])
    models = []
    for name in sorted(os.listdir(os.path.join(root, "model"))):
        if name.endswith(".py") and name != "__init__.py":
            models.extend(model_spec(os.path.join(root, "model", name)))
    models.sort(key=lambda m: m["name"])
    return {
        "format": 1,
        "source": {
            "package": "merchantapi",
            "version": version,
            "extracted_by": "crates/miva-envelope/spec/extract_merchantapi.py",
        },
        "functions": functions,
        "models": models,
    }


def main():
    text = json.dumps(extract(), indent=1, ensure_ascii=False) + "\n"
    if "--write" in sys.argv:
        with open(OUT, "w", encoding="utf-8") as f:
            f.write(text)
        spec = json.loads(text)
        print("wrote %s: %d functions, %d models" % (OUT, len(spec["functions"]),
                                                    len(spec["models"])))
    elif "--check" in sys.argv:
        with open(OUT, encoding="utf-8") as f:
            if f.read() != text:
                print("%s is out of date: run extract_merchantapi.py --write" % OUT)
                sys.exit(1)
        spec = json.loads(text)
        print("miva-api.json is up to date: %d functions, %d models"
              % (len(spec["functions"]), len(spec["models"])))
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
