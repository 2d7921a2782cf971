"""The molecule lab (attrkit.chem, data/chem, scripts/train_chem.py): exact TPSA per atom, the shipped networks,
IG per atom graded against the known answers. Needs rdkit (the `chem` extra); skipped with the reason without it,
except the checks that the model and the error message work without rdkit."""
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from attrkit import chem, zoo
from attrkit import groundtruth as gt

ROOT = Path(__file__).resolve().parent.parent
SKIP = "rdkit is not installed: pip install 'attrkit[chem]' to test the molecule lab"
PARACETAMOL = "CC(=O)Nc1ccc(O)cc1"


@pytest.fixture(scope="module")
def Chem():
    return pytest.importorskip("rdkit.Chem", reason=SKIP)


@pytest.fixture(scope="module")
def test_set(Chem):
    smiles = (zoo.data_dir() / "chem" / "test.smi").read_text().split()
    return [chem.featurise(s) for s in smiles]


def _model(task):
    m = chem.AtomGNN(outputs=1 if task == "tpsa" else 2)
    m.load_state_dict(torch.load(zoo.data_dir() / "chem" / f"{task}.pt", map_location="cpu", weights_only=True))
    return m.eval()


def _metrics():
    return json.loads((zoo.data_dir() / "chem" / "metrics.json").read_text())


def test_model_builds_and_missing_rdkit_says_what_to_install():
    # a fresh interpreter where `import rdkit` fails, as on a machine without the extra
    code = ("import sys; sys.modules['rdkit'] = None\n"
            "from attrkit import chem\n"
            "import torch; m = chem.AtomGNN(); print(tuple(m(torch.zeros(1, 3, chem.N_FEATURES), torch.eye(3)).shape))\n"
            "try:\n    chem.featurise('CCO')\nexcept ImportError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "(1, 1)" in out
    assert "pip install 'attrkit[chem]'" in out


def test_tpsa_contributions_sum_to_rdkit_tpsa_for_every_shipped_molecule(test_set):
    from rdkit.Chem import rdMolDescriptors
    assert len(test_set) > 900
    for g in test_set:
        c = chem.tpsa_contributions(g.mol)
        assert len(c) == g.mol.GetNumAtoms()
        assert float(c.sum()) == pytest.approx(rdMolDescriptors.CalcTPSA(g.mol), abs=1e-6), g.smiles


def test_paracetamol_tpsa_is_three_atoms(Chem):
    c = chem.tpsa_contributions(Chem.MolFromSmiles(PARACETAMOL))
    assert sorted(round(v, 2) for v in c.tolist() if v) == [12.03, 17.07, 20.23]


def test_trained_tpsa_model_r2_and_mae(test_set):
    from rdkit.Chem import rdMolDescriptors
    torch.set_num_threads(1)
    model = _model("tpsa")
    with torch.no_grad():
        pred = torch.cat([model(*chem.batch(test_set[k:k + 256]))[:, 0] for k in range(0, len(test_set), 256)])
    y = torch.tensor([rdMolDescriptors.CalcTPSA(g.mol) for g in test_set])
    r2 = 1 - ((pred - y) ** 2).sum() / ((y - y.mean()) ** 2).sum()
    mae = (pred - y).abs().mean()
    saved = _metrics()["tpsa"]
    assert float(r2) == pytest.approx(saved["test_r2"], abs=1e-3)
    assert float(mae) == pytest.approx(saved["test_mae"], abs=1e-2)
    assert r2 > 0.97


def test_padding_atoms_add_nothing(test_set):
    model = _model("tpsa")
    g = test_set[0]
    with torch.no_grad():
        alone = model(g.x[None], g.adj[None])
        padded = model(*chem.batch([g, max(test_set, key=lambda h: len(h.x))]))[:1]
    assert torch.allclose(alone, padded, atol=1e-4)


def test_ig_per_atom_is_complete_and_does_not_touch_the_model(Chem):
    model = _model("tpsa").train()                  # a training-mode caller gets its mode back
    before = {k: v.clone() for k, v in model.state_dict().items()}
    g = chem.featurise(PARACETAMOL)
    for name in chem.BASELINES:
        res = chem.atom_attributions(model, g, baseline=name)
        assert abs(float(res.per_atom.sum()) - (res.score - res.baseline_score)) < 0.01 * abs(res.score) + 1e-3
    assert model.training
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    with pytest.raises(ValueError, match="baseline must be one of"):
        chem.atom_attributions(model, g, baseline="zeros")


def _ig_grades(model, graphs, baseline):
    from rdkit.Chem import rdMolDescriptors  # noqa: F401  (rdkit present: the fixture checked)
    rho, prec, mis = [], [], []
    for g in graphs:
        a = chem.atom_attributions(model, g, baseline=baseline, steps=32).per_atom[None]
        t = chem.tpsa_contributions(g.mol)[None]
        rho.append(gt.rank_correlation(a, t))
        prec.append(gt.top_k_precision(a, t > 0))
        mis.append(gt.misplaced_share(a, t))
    return [torch.cat(v).nanmean().item() for v in (rho, prec, mis)]


def test_ig_finds_the_tpsa_atoms(test_set):
    torch.set_num_threads(1)
    model = _model("tpsa")
    graphs = [g for g in test_set if chem.tpsa_contributions(g.mol).sum() > 0][:60]
    # observed with the shipped weights (32 Gauss-Legendre nodes): empty ρ 0.695, top-k 0.989, misplaced 0.246;
    # carbon 0.928, 1.000, 0.052. The tolerances cover float noise, not a retrained model.
    rho, prec, mis = _ig_grades(model, graphs, "empty")
    assert rho == pytest.approx(0.695, abs=0.03) and prec > 0.95 and mis == pytest.approx(0.246, abs=0.03)
    rho, prec, mis = _ig_grades(model, graphs, "carbon")
    assert rho == pytest.approx(0.928, abs=0.03) and prec > 0.98 and mis == pytest.approx(0.052, abs=0.02)


def test_carbonyl_model_and_ig_auroc(test_set, Chem):
    torch.set_num_threads(1)
    sys.path.insert(0, str(ROOT / "scripts"))
    import train_chem
    model = _model("carbonyl")
    y = torch.tensor([train_chem.carbonyl_label(g.mol) for g in test_set])
    with torch.no_grad():
        pred = torch.cat([model(*chem.batch(test_set[k:k + 256])).argmax(1) for k in range(0, len(test_set), 256)])
    acc = (pred == y).float().mean().item()
    assert acc == pytest.approx(_metrics()["carbonyl"]["test_accuracy"], abs=1e-3)
    assert acc > 0.95
    pattern = Chem.MolFromSmarts(train_chem.CARBONYL)
    aurocs = []
    for g, label in list(zip(test_set, y.tolist())):
        if label == 1 and len(aurocs) < 40:
            mask = torch.zeros(len(g.x), dtype=torch.bool)
            for match in g.mol.GetSubstructMatches(pattern):
                mask[list(match)] = True
            a = chem.atom_attributions(model, g, baseline="empty", target=1, steps=32).per_atom
            aurocs.append(gt.attribution_auroc(a[None], mask[None]))
    assert torch.cat(aurocs).nanmean().item() > 0.95          # observed 1.00: the carbonyl atoms rank first


def test_featurise_and_drawing(Chem):
    g = chem.featurise(PARACETAMOL)
    assert g.x.shape == (11, chem.N_FEATURES) and torch.equal(g.adj, g.adj.T) and int(g.adj.sum()) == 2 * 11
    assert (g.x[:, :len(chem.ELEMENTS) + 1].sum(1) == 1).all()     # exactly one element slot per atom
    with pytest.raises(ValueError, match="could not parse"):
        chem.featurise("C1CC")
    png = chem.draw_attributions(g.mol, {"truth": chem.tpsa_contributions(g.mol), "zeros": torch.zeros(11)})
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="2 values for a molecule of 11 atoms"):
        chem.draw_attributions(g.mol, {"x": torch.ones(2)})
