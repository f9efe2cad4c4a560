from ..table.view import *  # noqa: F401,F403 - moved to jupyter_exp.table.view
