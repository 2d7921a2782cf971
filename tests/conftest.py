"""Shared pytest hooks: tests may leave one-line notes (e.g. the wheel's size) for the end of the run."""


def pytest_terminal_summary(terminalreporter, config):
    notes = config.stash.get("attrkit_notes", []) if hasattr(config, "stash") else []
    for line in notes:
        terminalreporter.write_line(line)
