"""The space sync's proof of ClickUp's reading of `archived=true`, and the reads it plans under each: sound under
both readings (an answer proves "archived items too" only by an item that says `"archived": false` itself)."""

from __future__ import annotations

from bridge.clickup import models
from bridge.sync.service import _next_read, proves_all_items


def test_only_an_item_saying_archived_false_proves_the_all_items_reading() -> None:
    assert proves_all_items(
        [models.Space(id="1", name="a", archived=True), models.Space(id="2", name="b", archived=False)]
    )
    assert not proves_all_items([])  # an empty answer tells nothing
    assert not proves_all_items([models.Space(id="1", name="a", archived=True)])  # fits both readings
    # an answer that omits the field (GetFolders' schema has no `archived`) proves nothing either
    assert not proves_all_items([models.Folder.model_validate({"id": "1", "name": "f"})])
    # the lists a folder embeds do not count: what they follow is not documented
    folder = models.Folder.model_validate(
        {"id": "1", "name": "f", "archived": True, "lists": [{"id": "9", "name": "l", "archived": False}]}
    )
    assert not proves_all_items([folder])


def _plan(progress: dict, all_items: bool) -> list[str]:
    keys = []
    while (key := _next_read(progress, all_items)) is not None:
        keys.append(key)
        progress.setdefault("done", []).append(key)
    return keys


def test_reads_of_one_space_under_each_reading() -> None:
    # proven "archived items too": the two archived=true answers hold everything
    assert _plan({}, all_items=True) == ["folders:true", "lists:true"]
    # unproven: each read paired, and each folder's lists its answer may not embed (archived lists of an active
    # folder, active lists of an archived one)
    progress = {"folders": {"10": False, "11": True}}
    assert _plan(progress, all_items=False) == [
        "folders:true",
        "lists:true",
        "folders:false",
        "lists:false",
        "folder:10:true",
        "folder:11:false",
    ]
    # a resumed space skips the reads it has done
    assert _plan({"done": ["folders:true", "lists:true", "folders:false"], "folders": {}}, all_items=False) == [
        "lists:false"
    ]
