"""Molecules with a known right answer: a small graph network, IG over atom features, exact per-atom TPSA.

The topological polar surface area (TPSA, Ertl et al., J. Med. Chem. 2000) is an exact sum of per-atom
contributions (N and O atoms, by their bonding and hydrogens; zero for every carbon and halogen). A network that
predicts TPSA well from the molecular graph therefore has a right answer for every atom: IG's per-atom shares
should match TPSA_atom / TPSA (IG-paper §6 applies IG to a chemistry network; McCloskey et al., PNAS 2019 plant
such logic on purpose).

    graph = featurise("CC(=O)Nc1ccc(O)cc1")               # atom features (n, F) and adjacency (n, n)
    model = AtomGNN(); model.load_state_dict(...)         # plain torch, constructed without rdkit
    res = atom_attributions(model, graph, baseline="empty")
    truth = tpsa_contributions(graph.mol)

The model is plain torch and needs no rdkit; featurising, TPSA and drawing need rdkit (``pip install
'attrkit[chem]'``), and say so when it is missing.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..ig import integrated_gradients

CHEM_HINT = "rdkit is not installed: pip install 'attrkit[chem]' (or pip install rdkit) for the molecule lab"
ELEMENTS = ("C", "N", "O", "S", "P", "F", "Cl", "Br", "I")          # then one slot for any other element
DEGREES, HYDROGENS, CHARGES = 6, 5, (-1, 0, 1)
N_FEATURES = len(ELEMENTS) + 1 + DEGREES + HYDROGENS + len(CHARGES) + 2
BASELINES = ("empty", "carbon", "mean")


def require_rdkit():
    """Import rdkit's Chem, or raise an ImportError that says how to install it."""
    try:
        from rdkit import Chem
    except ImportError:
        raise ImportError(CHEM_HINT) from None
    return Chem


# ---- molecules → tensors ------------------------------------------------------------------------------------

def _one_hot(value, choices) -> list[float]:
    """One-hot over ``choices``; values outside go to the last slot (so unusual atoms still get a vector)."""
    i = choices.index(value) if value in choices else len(choices) - 1
    return [float(i == j) for j in range(len(choices))]


def atom_features(atom) -> list[float]:
    """One atom's feature vector (length :data:`N_FEATURES`): element, degree, attached H, formal charge −1/0/+1
    (all one-hot; rarer charges count as 0), aromatic, in a ring. Everything TPSA's atom types look at, except
    the neighbours (the network's message passing must find those)."""
    return (_one_hot(atom.GetSymbol(), ELEMENTS + ("other",))
            + _one_hot(min(atom.GetDegree(), DEGREES - 1), tuple(range(DEGREES)))
            + _one_hot(min(atom.GetTotalNumHs(), HYDROGENS - 1), tuple(range(HYDROGENS)))
            + _one_hot(atom.GetFormalCharge() if atom.GetFormalCharge() in CHARGES else 0, CHARGES)
            + [float(atom.GetIsAromatic()), float(atom.IsInRing())])


@dataclass
class MolGraph:
    """A molecule as tensors: ``x`` (n_atoms, F) atom features, ``adj`` (n_atoms, n_atoms) 0/1 bonds."""

    smiles: str
    x: torch.Tensor
    adj: torch.Tensor
    mol: object = None          # the rdkit Mol (None when built without rdkit)


def featurise(molecule) -> MolGraph:
    """A SMILES string or rdkit Mol → :class:`MolGraph` (heavy atoms only, in rdkit's atom order)."""
    Chem = require_rdkit()
    mol = Chem.MolFromSmiles(molecule) if isinstance(molecule, str) else molecule
    if mol is None or mol.GetNumAtoms() == 0:
        raise ValueError(f"rdkit could not parse {molecule!r} into a molecule with atoms; check the SMILES")
    x = torch.tensor([atom_features(a) for a in mol.GetAtoms()], dtype=torch.float32)
    adj = torch.as_tensor(Chem.GetAdjacencyMatrix(mol), dtype=torch.float32)
    return MolGraph(Chem.MolToSmiles(mol), x, adj, mol)


def batch(graphs: list[MolGraph]):
    """Pad a list of graphs to one batch: x (B, n_max, F), adj (B, n_max, n_max), mask (B, n_max) bool."""
    n = max(len(g.x) for g in graphs)
    x = torch.zeros(len(graphs), n, N_FEATURES)
    adj = torch.zeros(len(graphs), n, n)
    mask = torch.zeros(len(graphs), n, dtype=torch.bool)
    for i, g in enumerate(graphs):
        k = len(g.x)
        x[i, :k], adj[i, :k, :k], mask[i, :k] = g.x, g.adj, True
    return x, adj, mask


def tpsa_contributions(mol) -> torch.Tensor:
    """Each atom's exact TPSA contribution (Å², rdkit ``_CalcTPSAContribs``; Σ = ``CalcTPSA(mol)``) → (n,)."""
    require_rdkit()
    from rdkit.Chem import rdMolDescriptors
    return torch.tensor(list(rdMolDescriptors._CalcTPSAContribs(mol)), dtype=torch.float64)


# ---- the network ---------------------------------------------------------------------------------------------

class AtomGNN(nn.Module):
    """Message passing on the bond graph, then a sum over atoms (Gilmer et al. 2017, in its plainest form).

    h⁰ = W_in x;  hˡ⁺¹ = ReLU(W_self hˡ + W_nb Σ_{j bonded to i} h_jˡ + b);  y = Σ_atoms head(hᴸ_i).
    The sum readout makes the output additive over atoms, like TPSA itself. ``forward(x, adj, mask=None)``:
    x (B, n, F), adj (B, n, n) or (n, n) shared by the batch, mask (B, n) True on real atoms → (B, outputs).
    """

    def __init__(self, features: int = N_FEATURES, hidden: int = 64, layers: int = 3, outputs: int = 1):
        super().__init__()
        self.embed = nn.Linear(features, hidden)
        self.self_w = nn.ModuleList(nn.Linear(hidden, hidden) for _ in range(layers))
        self.neighbour_w = nn.ModuleList(nn.Linear(hidden, hidden, bias=False) for _ in range(layers))
        self.head = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, outputs))

    def atom_outputs(self, x, adj):
        """Each atom's term of the sum readout (B, n, outputs): the network's own additive decomposition."""
        h = self.embed(x)
        for w_self, w_nb in zip(self.self_w, self.neighbour_w):
            h = torch.relu(w_self(h) + w_nb(adj @ h))
        return self.head(h)

    def forward(self, x, adj, mask=None):
        per_atom = self.atom_outputs(x, adj)
        if mask is not None:                          # padding atoms must add nothing to the sum
            per_atom = per_atom * mask.unsqueeze(-1).to(per_atom.dtype)
        return per_atom.sum(1)


class OnMolecule(nn.Module):
    """The network with one molecule's bonds fixed: ``forward(x (B, n, F)) → (B, C ≥ 2)`` class-score rows.

    attrkit's IG calls ``model(points)`` with a batch of path points γ(α_k) of the *inputs* only; a molecule's
    adjacency is not an input to interpolate (a "half bond" means nothing) but part of the function. Binding it
    here makes F a function of the atom features alone, so the path runs over atom features, and every path
    point shares the one adjacency. A one-output (regression) network gets a constant 0 column so the output has
    the class dimension IG expects; explain column 0.
    """

    def __init__(self, model: AtomGNN, adj: torch.Tensor):
        super().__init__()
        self.model = model
        self.register_buffer("adj", adj)

    def forward(self, x):
        y = self.model(x, self.adj)
        return torch.cat([y, torch.zeros_like(y)], 1) if y.shape[1] == 1 else y


# ---- IG per atom ---------------------------------------------------------------------------------------------

def baseline_features(graph: MolGraph, name: str = "empty") -> torch.Tensor:
    """x′ for a molecule (n, F). "empty": all-zero features (no atom information at all, the empty graph's
    featurisation); "carbon": every atom turned into a carbon with its degree, H count and ring flags kept (a
    molecule with TPSA 0 by definition); "mean": every atom the average atom of this molecule."""
    if name == "empty":
        return torch.zeros_like(graph.x)
    if name == "carbon":
        x = graph.x.clone()
        x[:, :len(ELEMENTS) + 1] = 0.0
        x[:, ELEMENTS.index("C")] = 1.0
        return x
    if name == "mean":
        return graph.x.mean(0, keepdim=True).expand_as(graph.x).clone()
    raise ValueError(f"baseline must be one of {BASELINES}, got {name!r}")


@dataclass
class AtomAttribution:
    """IG of one molecule, summed over each atom's features: ``per_atom`` (n,), Σ per_atom = score −
    baseline_score − delta (completeness, IG-paper Prop. 1)."""

    per_atom: torch.Tensor
    score: float
    baseline_score: float
    delta: float
    baseline: str


def atom_attributions(model: AtomGNN, graph: MolGraph, baseline: str = "empty", target: int = 0, steps: int = 64,
                      method: str = "gausslegendre") -> AtomAttribution:
    """IG (IG-paper Eq. 1) of output ``target`` over the atom features, path from :func:`baseline_features`,
    then Σ over each atom's features: one number per atom (an atom's features move together along the path,
    so their sum is that atom's share of F(x) − F(x′))."""
    was_training = model.training
    bound = OnMolecule(model, graph.adj).eval()       # eval() on the wrapper; the caller's model is restored below
    try:
        res = integrated_gradients(bound, graph.x[None], target=target, baseline=baseline_features(graph, baseline)[None],
                                   steps=steps, method=method, record="none", progress=False)
    finally:
        model.train(was_training)
    return AtomAttribution(res.attributions[0].sum(-1), float(res.score[0]), float(res.baseline_score[0]),
                           float(res.delta[0]), baseline)


# ---- drawing -------------------------------------------------------------------------------------------------

def _colour(v: float, scale: float):
    """Red for positive, blue for negative, white at 0 (as the kit's heat maps)."""
    t = min(abs(v) / scale, 1.0) if scale > 0 else 0.0
    return (1.0, 1.0 - 0.8 * t, 1.0 - 0.8 * t) if v >= 0 else (1.0 - 0.8 * t, 1.0 - 0.8 * t, 1.0)


def draw_attributions(mol, panels: dict, size: int = 300, digits: int = 1) -> bytes:
    """PNG (bytes) of one molecule drawn once per panel, side by side, atoms coloured by that panel's values
    (red +, blue −, each panel scaled to its own largest |value|) and labelled with them.

    ``panels``: title → per-atom values (n,), e.g. {"true TPSA": truth, "IG (empty)": res.per_atom}."""
    Chem = require_rdkit()
    from rdkit.Chem.Draw import rdMolDraw2D
    drawer = rdMolDraw2D.MolDraw2DCairo(size * len(panels), size, size, size)
    drawer.drawOptions().annotationFontScale = 0.7
    mols, atoms, colours = [], [], []
    for values in panels.values():
        v = [float(a) for a in torch.as_tensor(values).flatten()]
        if len(v) != mol.GetNumAtoms():
            raise ValueError(f"a panel has {len(v)} values for a molecule of {mol.GetNumAtoms()} atoms")
        m = Chem.Mol(mol)
        scale = max(abs(a) for a in v) or 1.0
        for atom, a in zip(m.GetAtoms(), v):
            if abs(a) >= 0.5 * 10 ** -digits:
                atom.SetProp("atomNote", f"{a:.{digits}f}")
        mols.append(m)
        atoms.append(list(range(len(v))))
        colours.append({i: _colour(a, scale) for i, a in enumerate(v)})
    drawer.DrawMolecules(mols, highlightAtoms=atoms, highlightAtomColors=colours, highlightBonds=[[]] * len(mols),
                         legends=list(panels))
    drawer.FinishDrawing()
    return drawer.GetDrawingText()
