module duet/tools/shape

go 1.24
