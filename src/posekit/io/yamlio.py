"""Reading YAML configs safely: plain data only, bounded nesting, bounded alias expansion, bounded size.

A 1.5 KB "billion laughs" file (anchors aliased within anchors) would expand to billions of nodes
when anything walks it; here the nodes a document stands for, aliases counted at their full size,
are summed while it is composed, and the file is refused past MAX_YAML_NODES or MAX_YAML_DEPTH.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from posekit.errors import ConfigError

MAX_YAML_BYTES = 4 << 20  # configs are a few KB
MAX_YAML_DEPTH = 64
MAX_YAML_NODES = 100_000  # nodes after expanding aliases; AlphaPose configs have a few hundred


class _BoundedLoader(yaml.SafeLoader):
    """yaml.SafeLoader that counts expanded nodes and nesting while composing, and refuses past limits."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._nodes = 0
        self._sizes: dict[int, int] = {}
        self._open: set[str] = set()

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            anchor = self.peek_event().anchor
            if anchor in self._open:
                raise yaml.YAMLError(f"alias *{anchor} inside its own anchor (a recursive structure)")
            if anchor in self.anchors:
                self._count(self._expanded(self.anchors[anchor]))
            return super().compose_node(parent, index)
        self._depth += 1
        if self._depth > MAX_YAML_DEPTH:
            raise yaml.YAMLError(f"nested over {MAX_YAML_DEPTH} levels deep")
        self._count(1)
        anchor = getattr(self.peek_event(), "anchor", None)
        if anchor is not None:
            self._open.add(anchor)
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1
            self._open.discard(anchor)

    def _count(self, nodes: int) -> None:
        self._nodes += nodes
        if self._nodes > MAX_YAML_NODES:
            raise yaml.YAMLError(
                f"over {MAX_YAML_NODES} values, aliases counted in full (an alias bomb?); not loaded"
            )

    def _expanded(self, node: yaml.Node) -> int:
        """Nodes a finished `node` stands for with every alias expanded (memoised per node)."""
        key = id(node)
        if key in self._sizes:
            return self._sizes[key]
        if isinstance(node, yaml.MappingNode):
            children = [item for pair in node.value for item in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        else:
            children = []
        size = 1
        for child in children:
            size += self._expanded(child)
            if size > MAX_YAML_NODES:
                break
        self._sizes[key] = size
        return size


def read_yaml(path: str | Path) -> Any:
    """The plain data of a YAML file; ConfigError '<path>: ...' when it cannot be read, is not YAML,
    is larger than MAX_YAML_BYTES, nests too deep or expands too far through aliases."""
    path = Path(path)
    if path.exists() and not path.is_file():  # a folder, or a pipe that would block the read
        raise ConfigError(f"{path}: is not a regular file, expected a YAML config")
    try:
        size = path.stat().st_size
        if size > MAX_YAML_BYTES:
            raise ConfigError(f"{path}: {size} bytes, over the {MAX_YAML_BYTES} bytes a config may have")
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config ({exc.strerror or exc})") from None
    loader = _BoundedLoader(text)
    try:
        return loader.get_single_data()
    except (yaml.YAMLError, ValueError, OverflowError) as exc:  # a bad date, a 5000-digit integer
        raise ConfigError(f"{path}: not valid YAML ({' '.join(str(exc).split())[:300]})") from None
    finally:
        loader.dispose()
