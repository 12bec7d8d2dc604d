
	node lost 