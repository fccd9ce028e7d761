package catalog

import "maps"

// layer is a map that can sit on top of a parent layer: reads fall through
// to the parent, writes and deletions stay in the child, and an object
// taken for mutation is first copied into the child. Overlays let a down
// migration be checked against the schema after its up migration without
// copying the whole schema.
type layer[V any] struct {
	m      map[string]V
	gone   map[string]bool
	parent *layer[V]
	clone  func(V) V
}

func newLayer[V any](clone func(V) V) *layer[V] {
	return &layer[V]{m: map[string]V{}, gone: map[string]bool{}, clone: clone}
}

func (l *layer[V]) child() *layer[V] {
	return &layer[V]{m: map[string]V{}, gone: map[string]bool{}, parent: l, clone: l.clone}
}

// get returns the value for reading only.
func (l *layer[V]) get(k string) (V, bool) {
	for x := l; x != nil; x = x.parent {
		if v, ok := x.m[k]; ok {
			return v, true
		}
		if x.gone[k] {
			break
		}
	}
	var zero V
	return zero, false
}

// mut returns the value for mutation, copying it into this layer first.
func (l *layer[V]) mut(k string) (V, bool) {
	if v, ok := l.m[k]; ok {
		return v, true
	}
	if l.gone[k] || l.parent == nil {
		var zero V
		return zero, false
	}
	v, ok := l.parent.get(k)
	if !ok {
		return v, false
	}
	v = l.clone(v)
	l.m[k] = v
	return v, true
}

func (l *layer[V]) set(k string, v V) {
	l.m[k] = v
	delete(l.gone, k)
}

func (l *layer[V]) del(k string) {
	delete(l.m, k)
	if l.parent != nil {
		l.gone[k] = true
	}
}

// all returns every visible entry.
func (l *layer[V]) all() map[string]V {
	if l.parent == nil {
		return l.m
	}
	out := maps.Clone(l.parent.all())
	for k := range l.gone {
		delete(out, k)
	}
	maps.Copy(out, l.m)
	return out
}
