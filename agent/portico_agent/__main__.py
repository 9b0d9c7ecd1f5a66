"""`python -m portico_agent`: the same as the `portico-agent` command."""

import sys

from portico_agent.cli import main

sys.exit(main())
