// Film on a substrate: weylfem geometry kind = "stack" in 3D with its default
// dimensions.  Lengths are in the device's length_unit (um by default).  Element sizes
// come from weylfem (geometry.mesh_size); to mesh here alone, e.g.
// `gmsh -3 -clmax 0.5 stack.geo`.
SetFactory("OpenCASCADE");

length = 10;               // along x
width = 2;                 // along y
film_thickness = 0.2;      // along z, on top
substrate_thickness = 0.5; // along z, below
top_contacts = 0;          // 0: contacts on the film's end faces; 1: on its top face
contact_length = 1;        // top contacts only: patch length along x at each end
eps = 1e-4 * length;

bottom = substrate_thickness;
top = substrate_thickness + film_thickness;
Box(1) = {0, 0, bottom, length, width, film_thickness};
Box(2) = {0, 0, 0, length, width, substrate_thickness};
patches[] = {};
If (top_contacts)
  For end In {0 : 1}
    x0 = end * (length - contact_length);
    x1 = x0 + contact_length;
    p1 = newp; Point(p1) = {x0, 0, top};
    p2 = newp; Point(p2) = {x1, 0, top};
    p3 = newp; Point(p3) = {x1, width, top};
    p4 = newp; Point(p4) = {x0, width, top};
    l1 = newl; Line(l1) = {p1, p2};
    l2 = newl; Line(l2) = {p2, p3};
    l3 = newl; Line(l3) = {p3, p4};
    l4 = newl; Line(l4) = {p4, p1};
    c = newcl; Curve Loop(c) = {l1, l2, l3, l4};
    s = news; Plane Surface(s) = {c};
    patches[] += s;
  EndFor
EndIf
// Fragmenting makes the film and the substrate share one conforming interface face.
BooleanFragments{ Volume{1}; Delete; }{ Volume{2}; Surface{patches[]}; Delete; }

// Regions: film and substrate.  Boundaries: source (x = 0), drain (x = length), the
// internal interface, and walls (the rest).
film[] = Volume In BoundingBox{-eps, -eps, bottom - eps, length + eps, width + eps, top + eps};
substrate[] = Volume In BoundingBox{-eps, -eps, -eps, length + eps, width + eps, bottom + eps};
Physical Volume("film", 1) = {film[]};
Physical Volume("substrate", 2) = {substrate[]};
If (top_contacts)
  x1 = contact_length + eps;
  source[] = Surface In BoundingBox{-eps, -eps, top - eps, x1, width + eps, top + eps};
  x0 = length - contact_length - eps;
  drain[] = Surface In BoundingBox{x0, -eps, top - eps, length + eps, width + eps, top + eps};
Else
  source[] = Surface In BoundingBox{-eps, -eps, bottom - eps, eps, width + eps, top + eps};
  x0 = length - eps;
  drain[] = Surface In BoundingBox{x0, -eps, bottom - eps, length + eps, width + eps, top + eps};
EndIf
interface[] = Surface In BoundingBox{-eps, -eps, bottom - eps, length + eps, width + eps, bottom + eps};
walls[] = Abs(CombinedBoundary{ Volume{film[], substrate[]}; });
walls[] -= {source[], drain[]};
Physical Surface("source", 1) = {source[]};
Physical Surface("drain", 2) = {drain[]};
Physical Surface("interface", 3) = {interface[]};
Physical Surface("walls", 4) = {walls[]};
