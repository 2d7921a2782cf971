"""The teaching and evaluation lab, built on the two methods: the IG paper's toy functions and axioms
(:mod:`.toys`, :mod:`.axioms`), other methods to compare with (:mod:`.methods`), deletion and insertion
(:mod:`.metrics`), the randomisation sanity check (:mod:`.sanity`), one view of a prediction (:mod:`.explain`),
grading against known answers (:mod:`.groundtruth`, and molecules with exact per-atom TPSA in :mod:`.chem`),
path methods beyond IG's straight line (:mod:`.paths`) and the notebooks' exercise checker (:mod:`.exercise`).

May import :mod:`attrkit.common`, :mod:`attrkit.ig` and :mod:`attrkit.agi`; never plots or widgets.
"""
