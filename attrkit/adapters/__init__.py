"""Adapters: other libraries' calling conventions on attrkit's own engine (``attrkit.captum``).

May import :mod:`attrkit.common`, :mod:`attrkit.ig` and :mod:`attrkit.agi`; never the lab, the zoo, plots or widgets.
"""
