"""Reading the DOT text of drawings in tests: node statements, their HTML-like labels as plain
text lines, and edges. Checks read the DOT (draw(...).source), never pixels."""
import html
import re


def node_line(source: str, node_id: str) -> str:
    """The DOT statement declaring `node_id`."""
    match = re.search(rf"^\s*{node_id} \[.*\]$", source, re.M)
    assert match, f"no node {node_id} in\n{source[:2000]}"
    return match.group(0)


def html_value(text: str, start: int) -> str:
    """The HTML-like attribute value <...> that starts at text[start] == '<'."""
    depth = 0
    for k in range(start, len(text)):
        depth += {"<": 1, ">": -1}.get(text[k], 0)
        if depth == 0:
            return text[start:k + 1]
    raise AssertionError(f"unbalanced HTML label at {text[start:start + 80]!r}")


def as_text(value: str) -> str:
    """An HTML-like label as text: one line per table row or <BR/>, cells joined by spaces."""
    body = value[1:-1]
    body = re.sub(r"<BR[^>]*>", "\n", body)
    body = body.replace("</TR>", "\n").replace("</TD>", " ")
    body = re.sub(r"<[^>]*>", "", body)
    lines = [" ".join(html.unescape(line).split()) for line in body.split("\n")]
    return "\n".join(line for line in lines if line)


def attribute(line: str, name: str) -> str | None:
    """An attribute of a node or edge statement, as text (HTML-like values converted)."""
    match = re.search(rf'\b{name}=(<|"(?:[^"\\]|\\.)*"|[^\s\]]+)', line)
    if match is None:
        return None
    if match.group(1) == "<":
        return as_text(html_value(line, match.start(1)))
    return match.group(1).strip('"')


def label_of(source: str, node_id: str) -> str:
    return attribute(node_line(source, node_id), "label")


def node_ids(source: str, prefix: str = r"\w+") -> list[str]:
    return re.findall(rf"^\s*({prefix}) \[label=", source, re.M)


def find(source: str, label_start: str) -> str:
    """The id of the (first) node whose label starts with `label_start`."""
    for node_id in node_ids(source):
        if label_of(source, node_id).startswith(label_start):
            return node_id
    raise AssertionError(f"no node labelled {label_start!r}")


def edges(source: str) -> list[tuple[str, str]]:
    return re.findall(r"^\s*(\w+) -> (\w+)", source, re.M)


def edge_line(source: str, src: str, dst: str) -> str:
    match = re.search(rf"^\s*{src} -> {dst}\b.*$", source, re.M)
    assert match, f"no edge {src} -> {dst}"
    return match.group(0)


def all_text(source: str) -> str:
    """Every node label of a drawing as text, one after the other."""
    return "\n".join(label_of(source, n) for n in node_ids(source))
