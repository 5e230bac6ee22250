"""The policy engine imports nothing from the web framework."""

from __future__ import annotations

import subprocess
import sys


def test_policy_engine_imports_no_django() -> None:
    code = (
        "import sys, yibao.policy, yibao.policy.display; "
        "from yibao.policy import list_policies; [p.findings() for p in list_policies()]; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('django', 'ninja')); "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
