"""The hierarchy as the portal reads it, from the stored rows (bridge.sync.views.hierarchy_tree): spaces by name,
folders and folderless lists under their space, lists under their folder; archived ones only when asked for; a
child whose parent is left out is left out too."""

from __future__ import annotations

from typing import Any

from bridge.sync.views import hierarchy_tree


def _space(space_id: str, name: str, archived: bool = False) -> dict[str, Any]:
    return {"kind": "space", "id": space_id, "name": name, "archived": archived}


def _folder(folder_id: str, space_id: str, archived: bool = False) -> dict[str, Any]:
    return {"kind": "folder", "id": folder_id, "name": f"F {folder_id}", "space_id": space_id, "archived": archived}


def _list(list_id: str, space_id: str, folder_id: str | None = None, archived: bool = False) -> dict[str, Any]:
    row = {"kind": "list", "id": list_id, "name": f"L {list_id}", "space_id": space_id, "archived": archived}
    if folder_id:
        row["folder_id"] = folder_id
        row["statuses"] = [{"status": "to do"}]
    return row


ROWS = [
    _space("S2", "beta"),
    _space("S1", "Alpha"),
    _space("S3", "archived space", archived=True),
    _folder("F1", "S1"),
    _folder("F2", "S1", archived=True),
    _list("L1", "S1"),
    _list("L2", "S1", folder_id="F1"),
    _list("L3", "S1", folder_id="F2"),
    _list("L4", "S1", archived=True),
    _list("L5", "S3"),
    _list("L6", "S9"),  # its space is not stored
    _list("L7", "S1", folder_id="F9"),  # its folder is not stored
]


def test_spaces_sorted_by_name_without_case_and_archived_left_out() -> None:
    tree = hierarchy_tree(ROWS, include_archived=False)
    assert [s["id"] for s in tree] == ["S1", "S2"]
    alpha = tree[0]
    assert alpha == {
        "id": "S1",
        "name": "Alpha",
        "archived": False,
        "folders": [
            {"id": "F1", "name": "F F1", "lists": [{"id": "L2", "name": "L L2", "statuses": [{"status": "to do"}]}]}
        ],
        "lists": [{"id": "L1", "name": "L L1", "statuses": []}],
    }
    assert tree[1]["folders"] == [] and tree[1]["lists"] == []


def test_archived_ones_when_asked_for() -> None:
    tree = hierarchy_tree(ROWS, include_archived=True)
    assert [s["id"] for s in tree] == ["S1", "S3", "S2"]
    alpha = tree[0]
    assert [f["id"] for f in alpha["folders"]] == ["F1", "F2"]
    assert [x["id"] for x in alpha["folders"][1]["lists"]] == ["L3"]
    assert [x["id"] for x in alpha["lists"]] == ["L1", "L4"]
    assert tree[1]["archived"] is True and [x["id"] for x in tree[1]["lists"]] == ["L5"]


def test_a_child_of_a_parent_left_out_is_left_out() -> None:
    ids = {x["id"] for s in hierarchy_tree(ROWS, include_archived=True) for x in s["lists"]}
    ids |= {x["id"] for s in hierarchy_tree(ROWS, include_archived=True) for f in s["folders"] for x in f["lists"]}
    assert "L6" not in ids and "L7" not in ids
    # an archived folder hides its lists unless archived ones are asked for
    shown = hierarchy_tree(ROWS, include_archived=False)
    assert all(x["id"] != "L3" for s in shown for f in s["folders"] for x in f["lists"])
    assert hierarchy_tree([], include_archived=True) == []
