"""The kates test control plane: etcd, kube-apiserver and kube-controller-manager built from Kubernetes' own
Go modules (see k8s/go.mod and etcd/go.mod), started on loopback by `launcher.ControlPlane`."""
