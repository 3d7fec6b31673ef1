import sys

from phitray.cli import main

sys.exit(main())
