package expr

import "reflect"

type reflectType = reflect.Type

// typeOf returns the function type a pointer-to-func signature describes.
func typeOf(sig any) reflect.Type { return reflect.TypeOf(sig).Elem() }
