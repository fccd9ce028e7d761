package parsecache

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sync"
	"unsafe"

	"github.com/migsafe/migsafe/analyzer/change"
)

// The codec writes a value field by field in declaration order: no type
// descriptions (an entry is only ever read by the build that wrote it, the
// key says so), nil and empty slices kept apart, and interfaces
// (change.Change) as an index into changeTypes. gob, tried first, spent
// more time compiling its decoders than the parser takes.

var (
	changeIface = reflect.TypeFor[change.Change]()
	// typeIndex is built on the first write: a warm run only reads, and
	// building it took 0.2 ms of every start
	typeIndex = sync.OnceValue(func() map[reflect.Type]int {
		m := map[reflect.Type]int{}
		for i, t := range changeTypes {
			m[reflect.TypeOf(t)] = i
		}
		return m
	})
)

var errCorrupt = errors.New("parsecache: corrupt entry")

// exported remembers, per struct type, exportedOnly's answer: asking a
// type for its fields was a quarter of the encoding (each field's name is
// decoded on every call).
var exported sync.Map // reflect.Type → error

// exportedOnly returns an error when t has an unexported field, which the
// codec cannot read back.
func exportedOnly(t reflect.Type) error {
	if e, ok := exported.Load(t); ok {
		err, _ := e.(error)
		return err
	}
	var err error
	for i := range t.NumField() {
		if f := t.Field(i); !f.IsExported() {
			err = fmt.Errorf("parsecache: cannot encode the unexported field %s.%s", t, f.Name)
			break
		}
	}
	exported.Store(t, err)
	return err
}

func encodeValue(b []byte, v reflect.Value) ([]byte, error) {
	switch v.Kind() {
	case reflect.Bool:
		if v.Bool() {
			return append(b, 1), nil
		}
		return append(b, 0), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return binary.AppendVarint(b, v.Int()), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return binary.AppendUvarint(b, v.Uint()), nil
	case reflect.String:
		b = binary.AppendUvarint(b, uint64(v.Len()))
		return append(b, v.String()...), nil
	case reflect.Slice:
		if v.IsNil() {
			return append(b, 0), nil
		}
		b = binary.AppendUvarint(b, uint64(v.Len())+1)
		if v.Type().Elem().Kind() == reflect.Uint8 {
			// bytes as they are (a file's source): not one by one
			return append(b, v.Bytes()...), nil
		}
		var err error
		for i := range v.Len() {
			if b, err = encodeValue(b, v.Index(i)); err != nil {
				return nil, err
			}
		}
		return b, nil
	case reflect.Pointer:
		if v.IsNil() {
			return append(b, 0), nil
		}
		return encodeValue(append(b, 1), v.Elem())
	case reflect.Interface:
		if v.IsNil() {
			return append(b, 0), nil
		}
		i, ok := typeIndex()[v.Elem().Type()]
		if !ok || v.Type() != changeIface || v.Elem().IsNil() {
			return nil, fmt.Errorf("parsecache: cannot encode %s", v.Elem().Type())
		}
		return encodeValue(binary.AppendUvarint(b, uint64(i)+1), v.Elem().Elem())
	case reflect.Struct:
		t := v.Type()
		if err := exportedOnly(t); err != nil {
			return nil, err
		}
		var err error
		for i := range t.NumField() {
			if b, err = encodeValue(b, v.Field(i)); err != nil {
				return nil, err
			}
		}
		return b, nil
	}
	return nil, fmt.Errorf("parsecache: cannot encode a %s", v.Type())
}

type decoder struct{ b []byte }

func (d *decoder) uvarint() (uint64, error) {
	x, n := binary.Uvarint(d.b)
	if n <= 0 {
		return 0, errCorrupt
	}
	d.b = d.b[n:]
	return x, nil
}

// length reads a length and checks the entry can hold that many items.
func (d *decoder) length() (int, error) {
	x, err := d.uvarint()
	if err != nil || x > uint64(len(d.b)) || x > math.MaxInt32 {
		return 0, errCorrupt
	}
	return int(x), nil
}

func (d *decoder) value(v reflect.Value) error {
	switch v.Kind() {
	case reflect.Bool:
		if len(d.b) == 0 || d.b[0] > 1 {
			return errCorrupt
		}
		v.SetBool(d.b[0] == 1)
		d.b = d.b[1:]
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		x, n := binary.Varint(d.b)
		if n <= 0 {
			return errCorrupt
		}
		d.b = d.b[n:]
		v.SetInt(x)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		x, err := d.uvarint()
		if err != nil {
			return err
		}
		v.SetUint(x)
	case reflect.String:
		n, err := d.length()
		if err != nil {
			return err
		}
		if n > 0 {
			// the entry's own bytes, as for []byte below: the buffer is
			// never written after get read it, so no copy is needed
			v.SetString(unsafe.String(&d.b[0], n))
		} else {
			v.SetString("")
		}
		d.b = d.b[n:]
	case reflect.Slice:
		// the length plus one (0 is nil); every item takes a byte at least
		x, err := d.uvarint()
		if err != nil || x > uint64(len(d.b))+1 || x > math.MaxInt32 {
			return errCorrupt
		}
		if x == 0 {
			return nil // nil
		}
		n := int(x - 1)
		if v.Type().Elem().Kind() == reflect.Uint8 {
			if n > len(d.b) {
				return errCorrupt
			}
			// the entry's own bytes, not a copy: get reads each entry
			// into a buffer of its own, and the capacity ends here, so an
			// append cannot write over what follows
			v.SetBytes(d.b[:n:n])
			d.b = d.b[n:]
			return nil
		}
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := range n {
			if err := d.value(s.Index(i)); err != nil {
				return err
			}
		}
		v.Set(s)
	case reflect.Pointer:
		if len(d.b) == 0 || d.b[0] > 1 {
			return errCorrupt
		}
		nonNil := d.b[0] == 1
		d.b = d.b[1:]
		if nonNil {
			p := reflect.New(v.Type().Elem())
			if err := d.value(p.Elem()); err != nil {
				return err
			}
			v.Set(p)
		}
	case reflect.Interface:
		i, err := d.uvarint()
		if err != nil {
			return err
		}
		if i == 0 {
			return nil
		}
		if i > uint64(len(changeTypes)) || v.Type() != changeIface {
			return errCorrupt
		}
		p := reflect.New(reflect.TypeOf(changeTypes[i-1]).Elem())
		if err := d.value(p.Elem()); err != nil {
			return err
		}
		v.Set(p)
	case reflect.Struct:
		for i := range v.NumField() {
			if err := d.value(v.Field(i)); err != nil {
				return err
			}
		}
	default:
		return errCorrupt
	}
	return nil
}

// decode reads an entry's payload into e, a pointer; it never panics.
func decode(payload []byte, e any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", errCorrupt, r)
		}
	}()
	d := &decoder{b: payload}
	if err := d.value(reflect.ValueOf(e).Elem()); err != nil {
		return err
	}
	if len(d.b) != 0 {
		return errCorrupt
	}
	return nil
}

func encode(b []byte, e any) ([]byte, error) {
	return encodeValue(b, reflect.ValueOf(e).Elem())
}
