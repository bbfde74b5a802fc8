module example.com/starter

go 1.25.0

require (
	github.com/distsys-kit/distsys v0.0.0
	github.com/stretchr/testify v1.12.1
	go.uber.org/goleak v1.3.0
)

require go.yaml.in/yaml/v3 v3.0.5 // indirect

// The library is not published yet: use it from a clone beside this
// directory. When it is, delete this line and run
// go get github.com/distsys-kit/distsys@latest.
replace github.com/distsys-kit/distsys => ../
