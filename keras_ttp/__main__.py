"""`python -m keras_ttp ...`: the `keras-ttp` command line."""

import sys

from keras_ttp.cli import main

if __name__ == "__main__":
    sys.exit(main())
