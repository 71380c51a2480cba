"""``third_party/pve-storage/plugins.json``: what ``scripts/extract_storage_plugins.py`` reads from pve-storage's
plugins (``options``, ``plugindata``, ``@SHARED_STORAGE``), the data ``POST /storage`` checks definitions against."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = """
sub type {
    return 'nfs';
}

sub plugindata {
    return {
        content => [
            {
                images => 1,
                iso => 1, # a comment
            },
            { images => 1 },
        ],
        format => [{ raw => 1, qcow2 => 1 }, 'raw'],
        'sensitive-properties' => {},
    };
}

sub options {
    return {
        path => { fixed => 1 },
        'content-dirs' => { optional => 1 },
        'snapshot-as-volume-chain' => { optional => 1, fixed => 1 },
    };
}
"""


def extraction_script():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import extract_storage_plugins
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    return extract_storage_plugins


def test_the_script_reads_a_plugins_options_and_plugindata():
    name, definition = extraction_script().plugin(SAMPLE)
    assert name == "nfs"
    assert definition["options"] == {
        "content-dirs": {"optional": True},
        "path": {"fixed": True},
        "snapshot-as-volume-chain": {"optional": True, "fixed": True},
    }
    assert definition["content"] == ["images", "iso"] and definition["default-content"] == ["images"]
    assert definition["formats"] == ["qcow2", "raw"] and definition["default-format"] == "raw"
    assert definition["sensitive"] == []


def test_a_plugin_without_sensitive_properties_gets_plugin_pms_fallback_list():
    sample = SAMPLE.replace("        'sensitive-properties' => {},\n", "")
    assert extraction_script().plugin(sample)[1]["sensitive"] == [
        "encryption-key",
        "keyring",
        "master-pubkey",
        "password",
    ]


def test_the_stored_table_covers_every_release_line_with_pves_types():
    stored = json.loads((ROOT / "third_party" / "pve-storage" / "plugins.json").read_text())
    assert set(stored["commits"]) == {"7", "8", "9"}
    nine, eight = stored["majors"]["9"], stored["majors"]["8"]
    assert "glusterfs" in eight and "glusterfs" not in nine  # dropped in pve-storage 7669a99 (2025-06-16)
    assert nine["pbs"]["sensitive"] == ["encryption-key", "master-pubkey", "password"]
    assert {name for name, plugin in nine.items() if plugin["shared"]} == {
        "cephfs", "cifs", "iscsi", "iscsidirect", "nfs", "pbs", "rbd", "zfs",
    }  # fmt: skip
