// Hall bar: weylfem geometry kind = "hall_bar" in 3D with its default dimensions.
// Lengths are in the device's length_unit (um by default).  Element sizes come from
// weylfem (geometry.mesh_size); to mesh here alone, e.g. `gmsh -3 -clmax 0.5 hall_bar.geo`.
SetFactory("OpenCASCADE");

length = 10;       // along x
width = 2;         // along y
thickness = 0.5;   // along z
probe_pairs = 2;   // pair i is centred at x = i * length / (probe_pairs + 1)
arm_width = 0.5;   // along x
arm_length = 1;    // along y, below y = 0 and above y = width
eps = 1e-4 * length;

Box(1) = {0, 0, 0, length, width, thickness};
arms[] = {};
For i In {1 : probe_pairs}
  x = i * length / (probe_pairs + 1);
  b = newv; Box(b) = {x - arm_width / 2, -arm_length, 0, arm_width, arm_length, thickness};
  arms[] += b;
  b = newv; Box(b) = {x - arm_width / 2, width, 0, arm_width, arm_length, thickness};
  arms[] += b;
EndFor
channel[] = BooleanUnion{ Volume{1}; Delete; }{ Volume{arms[]}; Delete; };

// Region: bar and arms.  Boundaries: the end faces, the outer end face of every arm,
// and walls (the rest).
Physical Volume("channel", 1) = {channel[]};
walls[] = Abs(Boundary{ Volume{channel[]}; });
source[] = Surface In BoundingBox{-eps, -eps, -eps, eps, width + eps, thickness + eps};
drain[] = Surface In BoundingBox{length - eps, -eps, -eps, length + eps, width + eps, thickness + eps};
Physical Surface("source", 1) = {source[]};
Physical Surface("drain", 2) = {drain[]};
walls[] -= {source[], drain[]};
For i In {1 : probe_pairs}
  x = i * length / (probe_pairs + 1);
  x0 = x - arm_width / 2 - eps;
  x1 = x + arm_width / 2 + eps;
  y = -arm_length;
  bottom[] = Surface In BoundingBox{x0, y - eps, -eps, x1, y + eps, thickness + eps};
  y = width + arm_length;
  top[] = Surface In BoundingBox{x0, y - eps, -eps, x1, y + eps, thickness + eps};
  Physical Surface(Sprintf("probe_%g_bottom", i), 2 * i + 1) = {bottom[]};
  Physical Surface(Sprintf("probe_%g_top", i), 2 * i + 2) = {top[]};
  walls[] -= {bottom[], top[]};
EndFor
Physical Surface("walls", 2 * probe_pairs + 3) = {walls[]};
