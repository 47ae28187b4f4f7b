// Nonlocal strip: weylfem geometry kind = "nonlocal_strip" in 3D with its default
// dimensions (Zhang et al., Nat. Commun. 8, 13741 (2017)).  Lengths are in the device's
// length_unit (um by default).  Element sizes come from weylfem (geometry.mesh_size); to
// mesh here alone, e.g. `gmsh -3 -clmax 0.5 nonlocal_strip.geo`.
SetFactory("OpenCASCADE");

length = 20;                       // along x
width = 1;                         // along y
thickness = 0.5;                   // along z
injector_position = 2;             // injector centre along x
detector_distances[] = {4, 8, 12}; // detector centres along x, from the injector
contact_length = 0.5;              // every contact patch, along x
eps = 1e-4 * length;

// Contact pairs: patches on the y = 0 and y = width faces, the full thickness high,
// imprinted on the strip by fragmenting.  Pair 0 is the injector, pair i detector i.
centres[] = {injector_position};
For i In {0 : #detector_distances[] - 1}
  centres[] += injector_position + detector_distances[i];
EndFor
Box(1) = {0, 0, 0, length, width, thickness};
patches[] = {};
For i In {0 : #centres[] - 1}
  x0 = centres[i] - contact_length / 2;
  x1 = centres[i] + contact_length / 2;
  For side In {0 : 1}
    y = side * width;
    p1 = newp; Point(p1) = {x0, y, 0};
    p2 = newp; Point(p2) = {x1, y, 0};
    p3 = newp; Point(p3) = {x1, y, thickness};
    p4 = newp; Point(p4) = {x0, y, thickness};
    l1 = newl; Line(l1) = {p1, p2};
    l2 = newl; Line(l2) = {p2, p3};
    l3 = newl; Line(l3) = {p3, p4};
    l4 = newl; Line(l4) = {p4, p1};
    c = newcl; Curve Loop(c) = {l1, l2, l3, l4};
    s = news; Plane Surface(s) = {c};
    patches[] += s;
  EndFor
EndFor
BooleanFragments{ Volume{1}; Delete; }{ Surface{patches[]}; Delete; }
channel[] = Volume{:};

// Region: the strip.  Boundaries: the contact patches, and walls (the rest, strip ends
// included).
Physical Volume("channel", 1) = {channel[]};
walls[] = Abs(Boundary{ Volume{channel[]}; });
For i In {0 : #centres[] - 1}
  x0 = centres[i] - contact_length / 2 - eps;
  x1 = centres[i] + contact_length / 2 + eps;
  bottom[] = Surface In BoundingBox{x0, -eps, -eps, x1, eps, thickness + eps};
  top[] = Surface In BoundingBox{x0, width - eps, -eps, x1, width + eps, thickness + eps};
  If (i == 0)
    Physical Surface("injector_bottom", 1) = {bottom[]};
    Physical Surface("injector_top", 2) = {top[]};
  Else
    Physical Surface(Sprintf("detector_%g_bottom", i), 2 * i + 1) = {bottom[]};
    Physical Surface(Sprintf("detector_%g_top", i), 2 * i + 2) = {top[]};
  EndIf
  walls[] -= {bottom[], top[]};
EndFor
Physical Surface("walls", 2 * #centres[] + 1) = {walls[]};
