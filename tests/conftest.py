import sys
import pathlib

# Make `from tests.test_case import ...` work wherever pytest is started.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
