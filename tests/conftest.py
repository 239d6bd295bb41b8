"""Shared test set-up: Qt runs offscreen and settings go to a throw-away folder."""

import os
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# QSettings on Linux writes under XDG_CONFIG_HOME: never touch the user's own.
os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="attnviz-test-config-")
