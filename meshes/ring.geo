// Corbino ring: weylfem geometry kind = "ring" in 3D with its default dimensions.
// Lengths are in the device's length_unit (um by default).  Element sizes come from
// weylfem (geometry.mesh_size); to mesh here alone, e.g. `gmsh -3 -clmax 0.25 ring.geo`.
SetFactory("OpenCASCADE");

inner_radius = 1;
outer_radius = 3;
thickness = 0.5;    // along z
notch_depth = 0;    // > 0: a notch cut from the outer edge at +x, this deep along x
notch_width = 0.5;  // the notch's width along y
eps = 1e-4 * outer_radius;

Disk(1) = {0, 0, 0, outer_radius};
Disk(2) = {0, 0, 0, inner_radius};
If (notch_depth > 0)
  Rectangle(3) = {outer_radius - notch_depth, -notch_width / 2, 0, 2 * notch_depth, notch_width};
  BooleanDifference(4) = { Surface{1}; Delete; }{ Surface{2, 3}; Delete; };
Else
  BooleanDifference(4) = { Surface{1}; Delete; }{ Surface{2}; Delete; };
EndIf
out[] = Extrude {0, 0, thickness} { Surface{4}; };

// Region: the annulus.  Boundaries: the inner and outer cylinders (contacts), and walls
// (the flat top and bottom faces and the notch).
Physical Volume("channel", 1) = {out[1]};
r = inner_radius + eps;
inner[] = Surface In BoundingBox{-r, -r, -eps, r, r, thickness + eps};
r = outer_radius + eps;
walls[] = Surface In BoundingBox{-r, -r, -eps, r, r, eps};
walls[] += Surface In BoundingBox{-r, -r, thickness - eps, r, r, thickness + eps};
If (notch_depth > 0)
  x0 = outer_radius - notch_depth - eps;
  y = notch_width / 2 + eps;
  walls[] += Surface In BoundingBox{x0, -y, -eps, r, y, thickness + eps};
EndIf
outer[] = Abs(Boundary{ Volume{out[1]}; });
outer[] -= {inner[], walls[]};
Physical Surface("inner", 1) = {inner[]};
Physical Surface("outer", 2) = {outer[]};
Physical Surface("walls", 3) = {walls[]};
