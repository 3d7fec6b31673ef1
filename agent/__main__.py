import sys

from phitray.cli.main import main

sys.exit(main())
